package dev.shardserve.deploy;

import akka.actor.ActorSystem;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.AskPattern;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.ddata.LWWMap;
import akka.cluster.ddata.typed.javadsl.DistributedData;
import akka.cluster.ddata.typed.javadsl.Replicator;
import akka.cluster.typed.Cluster;
import dev.shardserve.concurrent.PlainFutures;
import dev.shardserve.node.NodeStatus;
import dev.shardserve.protocol.ModelCatalog;
import dev.shardserve.protocol.ModelCatalog.NodeModels;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * Akka Management's readiness check ({@code GET /ready}) for a shardserve process: the member is
 * Up, it is not shutting down, and what the process runs has started (a worker: its model region
 * and published catalog; a gateway: its listeners, and the model catalog has reached it, so that
 * it does not answer "not found" for models it has not heard of yet). A node that is joining,
 * leaving or still starting is not ready, so a rolling restart waits for it and a load balancer
 * sends it nothing.
 */
public final class ProcessReadiness implements Supplier<CompletionStage<Boolean>> {
  private final akka.actor.typed.ActorSystem<?> system;

  public ProcessReadiness(ActorSystem system) {
    this.system = Adapter.toTyped(system);
  }

  @Override
  public CompletionStage<Boolean> get() {
    Cluster cluster = Cluster.get(system);
    boolean up = cluster.selfMember().status() == MemberStatus.up()
        && CoordinatedShutdown.get(system.classicSystem()).getShutdownReason().isEmpty();
    String workerRole = system.settings().config().getString("shardserve.sharding.worker-role");
    String gatewayRole = system.settings().config().getString("shardserve.sharding.gateway-role");
    NodeStatus status = NodeStatus.get(system);
    boolean worker = !cluster.selfMember().hasRole(workerRole) || status.workerStarted.get();
    boolean isGateway = cluster.selfMember().hasRole(gatewayRole);
    if (!up || !worker || (isGateway && !status.gatewayStarted.get())) {
      return CompletableFuture.completedFuture(false);
    }
    return isGateway ? catalogKnown(workerRole) : CompletableFuture.completedFuture(true);
  }

  /**
   * True when no worker is Up, or this process's replica of the model catalog holds the entry of
   * at least one worker that is Up (a gateway that just started has an empty catalog until the
   * first gossip reaches it).
   */
  private CompletionStage<Boolean> catalogKnown(String workerRole) {
    java.util.Set<String> upWorkers = new java.util.HashSet<>();
    for (Member m : Cluster.get(system).state().getMembers()) {
      if (m.status() == MemberStatus.up() && m.hasRole(workerRole)) {
        upWorkers.add(m.address().toString());
      }
    }
    if (upWorkers.isEmpty()) {
      return CompletableFuture.completedFuture(true);
    }
    return PlainFutures.of(AskPattern.<Replicator.Command, Replicator.GetResponse<LWWMap<String, NodeModels>>>ask(
            DistributedData.get(system).replicator(),
            replyTo -> new Replicator.Get<>(ModelCatalog.KEY, Replicator.readLocal(), replyTo),
            Duration.ofSeconds(3), system.scheduler()))
        .thenApply(response -> response instanceof Replicator.GetSuccess<LWWMap<String, NodeModels>> ok
            && ok.dataValue().getEntries().keySet().stream().anyMatch(upWorkers::contains));
  }
}
