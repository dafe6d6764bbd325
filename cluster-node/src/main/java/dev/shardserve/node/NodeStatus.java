package dev.shardserve.node;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import dev.shardserve.node.repository.ModelRepository;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What this process has started, for its readiness check: a worker node is ready to serve once
 * its model region is up and its model catalog is published.
 */
public final class NodeStatus implements Extension {
  public static final class Id extends ExtensionId<NodeStatus> {
    @Override
    public NodeStatus createExtension(ActorSystem<?> system) {
      return new NodeStatus();
    }
  }

  public static final Id ID = new Id();

  public final AtomicBoolean workerStarted = new AtomicBoolean();
  public final AtomicBoolean gatewayStarted = new AtomicBoolean();
  /** The worker's model repository, once started: its listing error shows in the node's status. */
  public final AtomicReference<ModelRepository> repository = new AtomicReference<>();

  /** Why the model repository cannot be listed right now (the node serves its last listing meanwhile). */
  public Optional<String> repositoryError() {
    ModelRepository r = repository.get();
    return r == null ? Optional.empty() : r.listingError();
  }

  public static NodeStatus get(ActorSystem<?> system) {
    return ID.apply(system);
  }
}
