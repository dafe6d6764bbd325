package dev.shardserve.node;

import akka.Done;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Props;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.Entity;
import dev.shardserve.metrics.ShardServeMetrics;
import dev.shardserve.node.entity.ModelEntity;
import dev.shardserve.node.inbox.NodeInbox;
import dev.shardserve.node.repository.ModelCatalogPublisher;
import dev.shardserve.node.placement.ReplicaAllocationStrategy;
import dev.shardserve.node.repository.ModelRepository;
import dev.shardserve.node.runtime.SimulatedAccelerators;
import dev.shardserve.protocol.ModelProtocol;
import dev.shardserve.sharding.ReplicaShardExtractor;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Starts the worker side of a process: the model entities' sharding region (role
 * {@code worker}), the inbox of the gateways' channels, and the catalog publisher. In {@code standalone} it must start before the
 * gateway, which then finds the region already initialised.
 */
public final class WorkerNode {
  private WorkerNode() {}

  /**
   * Completes when this node's models are in the local catalog replica. The replicas load their
   * versions with {@code settings}' session settings plus this node's simulated accelerators.
   */
  public static CompletionStage<Done> start(ActorSystem<?> system, NodeSettings nodeSettings) {
    NodeSettings settings = nodeSettings.withSession(nodeSettings.session()
        .withSimulator(SimulatedAccelerators.get(system).simulator()));
    // Created here, before the region and the publisher start, so that its set-up (registry, JVM
    // collectors, cluster listener) never runs inside the publisher's first publish.
    ShardServeMetrics.get(system);
    String role = system.settings().config().getString("shardserve.sharding.worker-role");
    ClusterSharding.get(system).init(
        Entity.of(ModelProtocol.ENTITY_TYPE_KEY, ctx -> ModelEntity.create(ctx.getEntityId(), ctx.getShard(), settings))
            .withRole(role)
            .withStopMessage(ModelEntity.Stop.INSTANCE)
            .withAllocationStrategy(new ReplicaAllocationStrategy(system))
            .withMessageExtractor(new ReplicaShardExtractor()));
    com.typesafe.config.Config c = system.settings().config();
    system.systemActorOf(NodeInbox.create(new NodeInbox.Settings(c.getInt("shardserve.node.channel.max-frames-in-flight"),
        c.getBytes("akka.remote.artery.advanced.maximum-large-frame-size") - 16 * 1024)), NodeInbox.NAME,
        Props.empty());
    CompletableFuture<Done> published = new CompletableFuture<>();
    published.thenRun(() -> NodeStatus.get(system).workerStarted.set(true));
    ModelRepository repository = new ModelRepository(settings.modelRepository());
    NodeStatus.get(system).repository.set(repository);
    system.systemActorOf(ModelCatalogPublisher.create(repository,
        settings.pollInterval(), published, settings.cpuSlots(), settings.gpus(), settings.gpuMemoryMiB()),
        "model-catalog-publisher", Props.empty());
    return published;
  }
}
