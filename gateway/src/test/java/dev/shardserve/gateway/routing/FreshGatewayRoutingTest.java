package dev.shardserve.gateway.routing;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.MemberStatus;
import akka.cluster.ddata.LWWMap;
import akka.cluster.ddata.typed.javadsl.DistributedData;
import akka.cluster.ddata.typed.javadsl.Replicator;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.desired.DesiredStateStore;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelCatalog;
import dev.shardserve.protocol.ModelCatalog.NodeModels;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.settings.ShardServeConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A gateway that just joined a running cluster, before gossip brought it anything (gossip runs
 * once an hour here): the cluster holds a desired state with a stateful model, which this
 * gateway's own replica of the desired state does not have yet. It must answer MODEL_NOT_READY,
 * not 404, while it has heard from no worker; and it must never route the stateful model as a
 * stateless one (with retries), though its local read of the desired state finds nothing.
 */
class FreshGatewayRoutingTest {
  static ActorSystem<Void> worker;
  static ActorSystem<Void> gateway;

  static ActorSystem<Void> system(String role) {
    return ActorSystem.create(Behaviors.empty(), "FreshGatewayRoutingTest", ShardServeConfig.load(
        ConfigFactory.parseMap(Map.of("akka.remote.artery.canonical.port", 0,
            "akka.cluster.roles", List.of(role),
            "akka.cluster.distributed-data.gossip-interval", "1h"))));
  }

  static boolean up(ActorSystem<?> s) {
    return Cluster.get(s).selfMember().status() == MemberStatus.up();
  }

  @BeforeAll
  static void start() throws Exception {
    worker = system("worker"); // a member with the worker role; no model region is needed here
    Cluster.get(worker).manager().tell(Join.create(Cluster.get(worker).selfMember().address()));
    await().atMost(Duration.ofSeconds(30)).until(() -> up(worker));
    new DesiredStateStore(worker, Duration.ofSeconds(5))
        .update(s -> s.with("counter", ModelSpec.DEFAULT.withStateful(true)))
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    gateway = system("gateway");
    Cluster.get(gateway).manager().tell(Join.create(Cluster.get(worker).selfMember().address()));
    await().atMost(Duration.ofSeconds(30)).until(() -> up(gateway));
  }

  @AfterAll
  static void stop() {
    for (ActorSystem<Void> s : new ActorSystem[] {gateway, worker}) {
      if (s != null) {
        s.terminate();
        s.getWhenTerminated().toCompletableFuture().join();
      }
    }
  }

  @Test
  void beforeAnyWorkerIsHeardOf_modelsAreNotReady_andAStatefulModelIsNeverRetried() throws Exception {
    ModelRouter router = ModelRouter.start(gateway);
    await().atMost(Duration.ofSeconds(10)).until(() -> router.snapshot().workersJoined());
    Failure early = router.unroutable(router.snapshot(), "counter", "Servable not found for request: Latest(counter)");
    assertEquals(ErrorCode.MODEL_NOT_READY, early.code(), early.toString());
    assertTrue(early.message().contains("has not heard from any worker"), early.message());

    // The worker publishes its models (written to every node at once, as an update reaches them).
    String address = Cluster.get(worker).selfMember().address().toString();
    Replicator.UpdateResponse<LWWMap<String, NodeModels>> written = AskPattern.<Replicator.Command,
        Replicator.UpdateResponse<LWWMap<String, NodeModels>>>ask(DistributedData.get(worker).replicator(),
        replyTo -> new Replicator.Update<>(ModelCatalog.KEY, LWWMap.empty(), new Replicator.WriteAll(
            Duration.ofSeconds(5)), replyTo, m -> m.put(DistributedData.get(worker).selfUniqueAddress(), address,
            new NodeModels(Set.of("counter"), 1, 0, 0, Set.of("counter#0")))),
        Duration.ofSeconds(10), worker.scheduler()).toCompletableFuture().get(15, TimeUnit.SECONDS);
    assertTrue(written instanceof Replicator.UpdateSuccess, written.toString());

    await().atMost(Duration.ofSeconds(20)).until(() -> router.snapshot().route("counter") != null);
    RoutingSnapshot.Route first = router.snapshot().route("counter");
    assertFalse(first.retry(), "routed with retries before its settings were known: " + first);
    assertEquals(1, first.replicas(), first.toString());
    await().atMost(Duration.ofSeconds(20)).until(() -> router.snapshot().desiredKnown());
    RoutingSnapshot.Route known = router.snapshot().route("counter");
    assertTrue(known.stateful(), "the desired state read from the cluster marks it stateful: " + known);
    assertFalse(known.retry(), known.toString());
    assertEquals(1, known.replicas(), known.toString());
  }
}
