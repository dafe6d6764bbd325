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
 *     one at a time, never batched, never retried, no synthetic warm-up
 * @param batching how replicas batch requests
 * @param requestTimeoutMillis the deadline of a request that sets none (header
 *     {@code X-Request-Timeout-Ms}); TF Serving's REST default is 30 s
 * @param device where replicas run: {@code gpu} only on nodes with role {@code gpu}, {@code cpu}
 *     without a GPU, {@code any} (the default) anywhere
 */
public record ModelSpec(
    String basePath,
    VersionPolicy policy,
    SortedMap<String, Long> labels,
    int replicas,
    boolean stateful,
    boolean loaded,
    BatchingSpec batching,
    long requestTimeoutMillis,
    Device device) implements WireMessage {

  public static final int MAX_REPLICAS = 64;

  public static final long DEFAULT_TIMEOUT_MILLIS = 30_000;
  public static final long MAX_TIMEOUT_MILLIS = 600_000;

  /** Replicas left to the cluster: 1 in standalone or with one worker node, 2 with two or more. */
  public static final int AUTO_REPLICAS = 0;

  public static final ModelSpec DEFAULT = new ModelSpec("", VersionPolicy.DEFAULT, new TreeMap<>(), AUTO_REPLICAS,
      false, true);

  public ModelSpec(String basePath, VersionPolicy policy, SortedMap<String, Long> labels, int replicas,
      boolean stateful, boolean loaded) {
    this(basePath, policy, labels, replicas, stateful, loaded, BatchingSpec.DEFAULT, DEFAULT_TIMEOUT_MILLIS);
  }

  public ModelSpec(String basePath, VersionPolicy policy, SortedMap<String, Long> labels, int replicas,
      boolean stateful, boolean loaded, BatchingSpec batching, long requestTimeoutMillis) {
    this(basePath, policy, labels, replicas, stateful, loaded, batching, requestTimeoutMillis, Device.ANY);
  }

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
    if (replicas < AUTO_REPLICAS || replicas > MAX_REPLICAS) {
      throw new IllegalArgumentException("replicas must be between 1 and " + MAX_REPLICAS + ", was " + replicas);
    }
    if (stateful && replicas > 1) {
      throw new IllegalArgumentException("a stateful model has exactly one replica, was " + replicas);
    }
    Objects.requireNonNull(batching, "batching");
    if (requestTimeoutMillis < 1 || requestTimeoutMillis > MAX_TIMEOUT_MILLIS) {
      throw new IllegalArgumentException("request-timeout must be between 1 ms and 10 min, was "
          + requestTimeoutMillis + " ms");
    }
    device = device == null ? Device.ANY : device;
  }

  /**
   * The replicas that serve this model when {@code workers} worker nodes are up: the spec's
   * count, or (auto) 2 with two or more workers and 1 otherwise; a stateful model has one.
   */
  public int replicasFor(int workers) {
    if (stateful) {
      return 1;
    }
    return replicas != AUTO_REPLICAS ? replicas : workers >= 2 ? 2 : 1;
  }

  /** The batching a replica applies: a stateful model is never batched and runs one request at a time. */
  public BatchingSpec effectiveBatching() {
    return stateful ? BatchingSpec.SERIAL : batching;
  }

  public ModelSpec withPolicy(VersionPolicy p) {
    return new ModelSpec(basePath, p, labels, replicas, stateful, loaded, batching, requestTimeoutMillis, device);
  }

  public ModelSpec withLabels(Map<String, Long> l) {
    return new ModelSpec(basePath, policy, new TreeMap<>(l), replicas, stateful, loaded, batching,
        requestTimeoutMillis, device);
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
    return new ModelSpec(basePath, policy, labels, r, stateful, loaded, batching, requestTimeoutMillis, device);
  }

  public ModelSpec withStateful(boolean s) {
    return new ModelSpec(basePath, policy, labels, s ? 1 : replicas, s, loaded, batching, requestTimeoutMillis,
        device);
  }

  public ModelSpec withBasePath(String b) {
    return new ModelSpec(b, policy, labels, replicas, stateful, loaded, batching, requestTimeoutMillis, device);
  }

  public ModelSpec withLoaded(boolean l) {
    return new ModelSpec(basePath, policy, labels, replicas, stateful, l, batching, requestTimeoutMillis, device);
  }

  public ModelSpec withBatching(BatchingSpec b) {
    return new ModelSpec(basePath, policy, labels, replicas, stateful, loaded, b, requestTimeoutMillis, device);
  }

  public ModelSpec withDevice(Device d) {
    return new ModelSpec(basePath, policy, labels, replicas, stateful, loaded, batching, requestTimeoutMillis, d);
  }

  public ModelSpec withRequestTimeoutMillis(long t) {
    return new ModelSpec(basePath, policy, labels, replicas, stateful, loaded, batching, t, device);
  }
}
