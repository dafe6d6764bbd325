package dev.shardserve.gateway.security;

import java.util.Set;
import java.util.TreeSet;

/**
 * Who a request authenticated as: a key's name or a token's subject, its scopes, and the models it
 * may reach ({@code models} null means every model).
 */
public record Principal(String name, Set<Scope> scopes, Set<String> models) {

  public Principal {
    scopes = Set.copyOf(scopes);
    models = models == null ? null : Set.copyOf(models);
  }

  public boolean has(Scope scope) {
    return scopes.contains(scope);
  }

  /** Whether this principal may reach {@code model} (a key restricted to some models reaches only those). */
  public boolean mayReach(String model) {
    return models == null || models.contains(model);
  }

  public boolean restrictedToModels() {
    return models != null;
  }

  /** The models, sorted, for messages. */
  String describeModels() {
    return models == null ? "all models" : new TreeSet<>(models).toString();
  }
}
