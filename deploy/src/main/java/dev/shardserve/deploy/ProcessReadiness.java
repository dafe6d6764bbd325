package dev.shardserve.deploy;

import akka.actor.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import dev.shardserve.node.NodeStatus;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * Akka Management's readiness check ({@code GET /ready}) for a shardserve process: the member is
 * Up, and what the process runs has started (a worker: its model region and published catalog;
 * a gateway: its listeners). A node that is joining, leaving or still starting is not ready,
 * so a rolling restart waits for it.
 */
public final class ProcessReadiness implements Supplier<CompletionStage<Boolean>> {
  private final akka.actor.typed.ActorSystem<?> system;

  public ProcessReadiness(ActorSystem system) {
    this.system = Adapter.toTyped(system);
  }

  @Override
  public CompletionStage<Boolean> get() {
    Cluster cluster = Cluster.get(system);
    boolean up = cluster.selfMember().status() == MemberStatus.up();
    String workerRole = system.settings().config().getString("shardserve.sharding.worker-role");
    String gatewayRole = system.settings().config().getString("shardserve.sharding.gateway-role");
    NodeStatus status = NodeStatus.get(system);
    boolean worker = !cluster.selfMember().hasRole(workerRole) || status.workerStarted.get();
    boolean gateway = !cluster.selfMember().hasRole(gatewayRole) || status.gatewayStarted.get();
    return CompletableFuture.completedFuture(up && worker && gateway);
  }
}
