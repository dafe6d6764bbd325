package dev.shardserve.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.node.NodeSettings;
import dev.shardserve.node.NodeStatus;
import dev.shardserve.node.WorkerNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gateway is ready (Akka Management's /ready) only once the model catalog has reached it, so
 * that a balancer does not send it requests it would answer "not found"; and no longer once it
 * shuts down.
 */
class ProcessReadinessTest {
  @TempDir Path tmp;
  final List<ActorSystem<?>> systems = new ArrayList<>();

  @AfterEach
  void stop() {
    for (ActorSystem<?> s : systems) {
      s.terminate();
      s.getWhenTerminated().toCompletableFuture().join();
    }
  }

  ActorSystem<Void> system(String role) throws Exception {
    ActorSystem<Void> s = Processes.system(ConfigFactory.parseMap(Map.of(
        "akka.remote.artery.canonical.port", 0,
        "akka.cluster.roles", List.of(role),
        "shardserve.node.model-repository", Files.createDirectories(tmp.resolve("models")).toString(),
        "shardserve.node.repository-poll-interval", "200ms")));
    systems.add(s);
    return s;
  }

  static int upMembers(ActorSystem<?> system) {
    int up = 0;
    for (akka.cluster.Member m : Cluster.get(system).state().getMembers()) {
      up += m.status() == MemberStatus.up() ? 1 : 0;
    }
    return up;
  }

  static boolean ready(ActorSystem<?> system) throws Exception {
    return new ProcessReadiness(Adapter.toClassic(system)).get().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  void aGateway_isReadyOnceTheCatalogReachedIt_andNotWhileItShutsDown() throws Exception {
    ActorSystem<Void> worker = system("worker");
    Cluster.get(worker).manager().tell(Join.create(Cluster.get(worker).selfMember().address()));
    ActorSystem<Void> gateway = system("gateway");
    Cluster.get(gateway).manager().tell(Join.create(Cluster.get(worker).selfMember().address()));
    NodeStatus.get(gateway).gatewayStarted.set(true); // its listeners are bound
    await().atMost(Duration.ofSeconds(30)).until(() -> upMembers(gateway) == 2);
    assertFalse(ready(gateway), "an Up worker has published nothing yet: the gateway knows no model");

    WorkerNode.start(worker, NodeSettings.fromConfig(worker.settings().config())).toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(30)).until(() -> ready(gateway));

    CoordinatedShutdown.get(gateway.classicSystem()).run(CoordinatedShutdown.unknownReason());
    assertFalse(ready(gateway), "a gateway that shuts down takes no new requests");
  }
}
