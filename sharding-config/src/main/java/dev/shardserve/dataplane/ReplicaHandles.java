package dev.shardserve.dataplane;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The node-local registry of replica handles, by model and replica number: the replica actors
 * publish and remove their handles, the request path finds them with one map lookup. A gateway
 * finds a handle only for replicas hosted in its own JVM (standalone); anything else goes over
 * the cluster.
 */
public final class ReplicaHandles implements Extension {

  public static final class Id extends ExtensionId<ReplicaHandles> {
    @Override
    public ReplicaHandles createExtension(ActorSystem<?> system) {
      return new ReplicaHandles();
    }
  }

  public static final Id ID = new Id();

  public static ReplicaHandles get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** Per model, its replicas' handles by replica number (copy on write; null = none here). */
  private final ConcurrentHashMap<String, ReplicaHandle[]> byModel = new ConcurrentHashMap<>();

  public ReplicaHandles() {}

  /** The handle of replica {@code replica} of {@code model} on this node, or null. */
  public ReplicaHandle find(String model, int replica) {
    ReplicaHandle[] handles = byModel.get(model);
    return handles != null && replica >= 0 && replica < handles.length ? handles[replica] : null;
  }

  /** Any handle of {@code model} on this node, or null (the lowest replica number first). */
  public ReplicaHandle any(String model) {
    ReplicaHandle[] handles = byModel.get(model);
    if (handles != null) {
      for (ReplicaHandle h : handles) {
        if (h != null) {
          return h;
        }
      }
    }
    return null;
  }

  public void publish(String model, int replica, ReplicaHandle handle) {
    byModel.compute(model, (m, old) -> {
      ReplicaHandle[] next = old == null ? new ReplicaHandle[replica + 1]
          : Arrays.copyOf(old, Math.max(old.length, replica + 1));
      next[replica] = handle;
      return next;
    });
  }

  /** Removes {@code handle} if it is still the one published for that replica. */
  public void remove(String model, int replica, ReplicaHandle handle) {
    byModel.computeIfPresent(model, (m, old) -> {
      if (replica >= old.length || old[replica] != handle) {
        return old;
      }
      ReplicaHandle[] next = old.clone();
      next[replica] = null;
      for (ReplicaHandle h : next) {
        if (h != null) {
          return next;
        }
      }
      return null;
    });
  }
}
