package dev.shardserve.desired;

import dev.shardserve.protocol.VersionSelector;
import dev.shardserve.serialization.WireMessage;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What an operator wants for one model: where its versions live, which of them to load, the
 * labels that name versions, how many replicas serve it, whether it is stateful, and whether it
 * is loaded at all ({@code loaded = false} keeps the model unloaded even when its folder is in
 * the repository).
 *
 * @param basePath the folder holding the model's version folders; empty means
 *     {@code <model repository>/<name>}; a relative path is resolved against each node's
 *     model repository, so that nodes with different mount points share one desired state
 * @param stateful the model's answers depend on earlier calls: exactly one replica, requests run
 *     one at a time, never retried, no synthetic warm-up
 */
public record ModelSpec(
    String basePath,
    VersionPolicy policy,
    SortedMap<String, Long> labels,
    int replicas,
    boolean stateful,
    boolean loaded) implements WireMessage {

  public static final int MAX_REPLICAS = 64;

  public static final ModelSpec DEFAULT = new ModelSpec("", VersionPolicy.DEFAULT, new TreeMap<>(), 1, false, true);

  public ModelSpec {
    basePath = basePath == null ? "" : basePath;
    Objects.requireNonNull(policy, "policy");
    TreeMap<String, Long> copy = new TreeMap<>();
    for (Map.Entry<String, Long> e : labels.entrySet()) {
      new VersionSelector.Label(e.getKey()); // validates the name
      if (e.getValue() == null || e.getValue() < 0) {
        throw new IllegalArgumentException("label '" + e.getKey() + "' must point at a version >= 0, was "
            + e.getValue());
      }
      copy.put(e.getKey(), e.getValue());
    }
    labels = Collections.unmodifiableSortedMap(copy);
    if (replicas < 1 || replicas > MAX_REPLICAS) {
      throw new IllegalArgumentException("replicas must be between 1 and " + MAX_REPLICAS + ", was " + replicas);
    }
    if (stateful && replicas != 1) {
      throw new IllegalArgumentException("a stateful model has exactly one replica, was " + replicas);
    }
  }

  public ModelSpec withPolicy(VersionPolicy p) {
    return new ModelSpec(basePath, p, labels, replicas, stateful, loaded);
  }

  public ModelSpec withLabels(Map<String, Long> l) {
    return new ModelSpec(basePath, policy, new TreeMap<>(l), replicas, stateful, loaded);
  }

  public ModelSpec withLabel(String label, Long version) {
    TreeMap<String, Long> l = new TreeMap<>(labels);
    if (version == null) {
      l.remove(label);
    } else {
      l.put(label, version);
    }
    return withLabels(l);
  }

  public ModelSpec withReplicas(int r) {
    return new ModelSpec(basePath, policy, labels, r, stateful, loaded);
  }

  public ModelSpec withStateful(boolean s) {
    return new ModelSpec(basePath, policy, labels, s ? 1 : replicas, s, loaded);
  }

  public ModelSpec withBasePath(String b) {
    return new ModelSpec(b, policy, labels, replicas, stateful, loaded);
  }

  public ModelSpec withLoaded(boolean l) {
    return new ModelSpec(basePath, policy, labels, replicas, stateful, l);
  }
}
