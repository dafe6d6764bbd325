package dev.shardserve.node;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import java.util.concurrent.atomic.AtomicBoolean;

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

  public static NodeStatus get(ActorSystem<?> system) {
    return ID.apply(system);
  }
}
