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
import dev.shardserve.dataplane.InferCall;
import dev.shardserve.dataplane.ReplicaHandle;
import dev.shardserve.dataplane.ReplicaHandles;
import dev.shardserve.desired.DesiredStateStore;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelCatalog;
import dev.shardserve.protocol.ModelCatalog.NodeModels;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.InferReply;
import dev.shardserve.protocol.ModelProtocol.InferResult;
import dev.shardserve.protocol.VersionSelector;
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
 * stateless one (with retries), though its local read of the desired state finds nothing. And a
 * replica beyond the count a model's settings want that answers "not found" (a node of the
 * previous release giving it up) is retried on another replica, not answered 404.
 */
class FreshGatewayRoutingTest {
  static ActorSystem<Void> worker;
  static ActorSystem<Void> gateway;
  static ModelRouter router;

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
    router = ModelRouter.start(gateway);
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

  /** A replica in this JVM that always answers {@code reply}, counting its calls. */
  record FixedReplica(InferReply reply, java.util.concurrent.atomic.AtomicInteger calls) implements ReplicaHandle {
    @Override
    public void submit(InferCall call, java.util.function.Consumer<InferReply> answer) {
      calls.incrementAndGet();
      answer.accept(reply);
    }

    @Override
    public Map<String, dev.shardserve.protocol.DType> inputTypes(String signature) {
      return null;
    }
  }

  @Test
  void aReplicaBeyondTheWantedCountThatSaysNotFound_isACountDisagreement_retriedOnAnotherReplica() throws Exception {
    var served = new FixedReplica(new InferResult(1, Map.of()), new java.util.concurrent.atomic.AtomicInteger());
    var givenUp = new FixedReplica(new Failure(ErrorCode.MODEL_NOT_FOUND, "Servable not found for request: "
        + "Latest(shrunk)"), new java.util.concurrent.atomic.AtomicInteger()); // as a node of the previous release
    ReplicaHandles.get(gateway).publish("shrunk", 0, served);
    ReplicaHandles.get(gateway).publish("shrunk", 1, givenUp);
    RoutingSnapshot.Route route = new RoutingSnapshot.Route("shrunk", 2, 1, false, -1, Set.of(), true,
        new String[2], dev.shardserve.metrics.ShardServeMetrics.get(gateway).model("shrunk"));
    InferCall call = new InferCall.Predict("shrunk", VersionSelector.latest(), "serving_default", Map.of(),
        System.nanoTime() + 10_000_000_000L);
    InferReply reply = router.infer(route, router.new Target("shrunk", 1, givenUp), call, r -> r)
        .get(10, TimeUnit.SECONDS);
    assertTrue(reply instanceof InferResult, reply.toString());
    assertEquals(1, givenUp.calls().get());
    assertEquals(1, served.calls().get());

    // Within the wanted count, "not found" is the answer: not retried.
    RoutingSnapshot.Route within = new RoutingSnapshot.Route("shrunk", 2, 2, false, -1, Set.of(), true,
        new String[2], route.metrics());
    InferReply notFound = router.infer(within, router.new Target("shrunk", 1, givenUp), call, r -> r)
        .get(10, TimeUnit.SECONDS);
    assertEquals(ErrorCode.MODEL_NOT_FOUND, ((Failure) notFound).code());
    assertEquals(1, served.calls().get());
  }

  /** Replicas in this JVM that answer UNAVAILABLE (a replica stopping for a handoff) to the first {@code refusals} calls. */
  record MovingReplicas(int refusals, java.util.concurrent.atomic.AtomicInteger calls) implements ReplicaHandle {
    @Override
    public void submit(InferCall call, java.util.function.Consumer<InferReply> answer) {
      answer.accept(calls.incrementAndGet() <= refusals
          ? new Failure(ErrorCode.UNAVAILABLE, "replica 0 of moving is stopping (handoff or drain)")
          : new InferResult(1, Map.of()));
    }

    @Override
    public Map<String, dev.shardserve.protocol.DType> inputTypes(String signature) {
      return null;
    }
  }

  @Test
  void whileEveryReplicaIsUnavailable_theRequestWaitsWithinItsDeadline_andIsAnsweredOnceOneServes() throws Exception {
    // Both replicas refuse (a rolling restart stops the node that hosts them while the next one
    // loads): three attempts a round, a pause of 50 ms, another round, a pause of 100 ms, and the
    // seventh call's refusal is followed by the answer.
    var moving = new MovingReplicas(7, new java.util.concurrent.atomic.AtomicInteger());
    ReplicaHandles.get(gateway).publish("moving", 0, moving);
    ReplicaHandles.get(gateway).publish("moving", 1, moving);
    RoutingSnapshot.Route route = new RoutingSnapshot.Route("moving", 2, 2, false, -1, Set.of(), true,
        new String[2], dev.shardserve.metrics.ShardServeMetrics.get(gateway).model("moving"));
    InferCall call = new InferCall.Predict("moving", VersionSelector.latest(), "serving_default", Map.of(),
        System.nanoTime() + 10_000_000_000L);
    long t0 = System.nanoTime();
    InferReply reply = router.infer(route, router.new Target("moving", 0, moving), call, r -> r)
        .get(10, TimeUnit.SECONDS);
    assertTrue(reply instanceof InferResult, reply.toString());
    assertEquals(8, moving.calls().get());
    assertTrue(System.nanoTime() - t0 >= 150_000_000L, "waited 50 + 100 ms between the rounds");

    // A model that stays unavailable: answered UNAVAILABLE (503, retriable) when its deadline
    // leaves no time for another round, never DEADLINE_EXCEEDED, and never past the deadline.
    var gone = new MovingReplicas(Integer.MAX_VALUE, new java.util.concurrent.atomic.AtomicInteger());
    ReplicaHandles.get(gateway).publish("gone", 0, gone);
    RoutingSnapshot.Route goneRoute = new RoutingSnapshot.Route("gone", 1, 1, false, -1, Set.of(), true,
        new String[1], dev.shardserve.metrics.ShardServeMetrics.get(gateway).model("gone"));
    long deadline = System.nanoTime() + 1_000_000_000L;
    InferReply refused = router.infer(goneRoute, router.new Target("gone", 0, gone), new InferCall.Predict("gone",
        VersionSelector.latest(), "serving_default", Map.of(), deadline), r -> r).get(10, TimeUnit.SECONDS);
    assertEquals(ErrorCode.UNAVAILABLE, ((Failure) refused).code(), refused.toString());
    assertTrue(System.nanoTime() < deadline, "answered within its deadline");
    assertTrue(gone.calls().get() > 6, "tried in several rounds: " + gone.calls().get());

    // A stateful model is never retried, so never waits either.
    var once = new MovingReplicas(Integer.MAX_VALUE, new java.util.concurrent.atomic.AtomicInteger());
    ReplicaHandles.get(gateway).publish("counter1", 0, once);
    RoutingSnapshot.Route stateful = new RoutingSnapshot.Route("counter1", 1, 1, true, -1, Set.of(), false,
        new String[1], dev.shardserve.metrics.ShardServeMetrics.get(gateway).model("counter1"));
    InferReply at = router.infer(stateful, router.new Target("counter1", 0, once), new InferCall.Predict("counter1",
        VersionSelector.latest(), "serving_default", Map.of(), System.nanoTime() + 10_000_000_000L), r -> r)
        .get(10, TimeUnit.SECONDS);
    assertEquals(ErrorCode.UNAVAILABLE, ((Failure) at).code());
    assertEquals(1, once.calls().get());
  }
}
