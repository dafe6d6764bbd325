package dev.shardserve.desired;

import akka.cluster.ddata.Key;
import akka.cluster.ddata.LWWRegister;
import akka.cluster.ddata.LWWRegisterKey;
import dev.shardserve.serialization.WireMessage;
import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The cluster's desired state for models, one Distributed Data register, durable on disk: which
 * models are named (with their {@link ModelSpec}) and whether the folders of each node's model
 * repository are served too ({@code discoverRepository}). A model that is not named but has a
 * folder in the repository is served with {@link ModelSpec#DEFAULT} while discovery is on.
 *
 * <p>Precedence: a model config file seeds this state at first start (when the register is
 * still empty); admin changes are written here and win afterwards; {@code reload-config}
 * replaces it with the file's.
 */
public record DesiredState(boolean discoverRepository, SortedMap<String, ModelSpec> models) implements WireMessage {

  public static final String KEY_ID = "shardserve-desired-state";
  public static final Key<LWWRegister<DesiredState>> KEY = LWWRegisterKey.create(KEY_ID);

  /** Before any file or admin call: serve every folder of the repository with defaults. */
  public static final DesiredState INITIAL = new DesiredState(true, new TreeMap<>());

  public DesiredState {
    models = Collections.unmodifiableSortedMap(new TreeMap<>(models));
  }

  /**
   * The spec a model is served with, or null when it is not served: named and loaded, or not
   * named but {@code inRepository} while discovery is on.
   */
  public ModelSpec effective(String model, boolean inRepository) {
    ModelSpec spec = models.get(model);
    if (spec != null) {
      return spec.loaded() ? spec : null;
    }
    return discoverRepository && inRepository ? ModelSpec.DEFAULT : null;
  }

  public DesiredState with(String model, ModelSpec spec) {
    TreeMap<String, ModelSpec> m = new TreeMap<>(models);
    m.put(model, spec);
    return new DesiredState(discoverRepository, m);
  }
}
