package dev.shardserve.downing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.settings.ShardServeConfig;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A real cluster in this JVM: a gateway and two workers, the worker with the lowest address
 * crashes (its system stops without leaving). The resolver downs it, and the gateway and the
 * other worker stay: with Akka's keep-majority on the worker role they would down themselves.
 */
class WorkerMajorityClusterTest {
  final List<ActorSystem<?>> systems = new ArrayList<>();

  @AfterEach
  void stop() {
    for (ActorSystem<?> s : systems) {
      s.terminate();
      s.getWhenTerminated().toCompletableFuture().join();
    }
  }

  static int[] freePorts(int n) throws Exception {
    int[] ports = new int[n];
    List<ServerSocket> open = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ServerSocket s = new ServerSocket(0);
      open.add(s);
      ports[i] = s.getLocalPort();
    }
    for (ServerSocket s : open) {
      s.close();
    }
    java.util.Arrays.sort(ports);
    return ports;
  }

  ActorSystem<Void> start(int port, String role, boolean crashable) {
    Config config = ShardServeConfig.load(ConfigFactory.parseMap(Map.of(
        "akka.remote.artery.canonical.port", port,
        "akka.cluster.roles", List.of(role),
        "akka.cluster.failure-detector.heartbeat-interval", "200ms",
        "akka.cluster.failure-detector.acceptable-heartbeat-pause", "1500ms",
        "akka.cluster.split-brain-resolver.stable-after", "2s",
        // A crash: the system stops without leaving the cluster.
        "akka.coordinated-shutdown.run-by-actor-system-terminate", crashable ? "off" : "on",
        "akka.cluster.run-coordinated-shutdown-when-down", "on")));
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "shardserve", config);
    systems.add(system);
    return system;
  }

  @Test
  void theLowerAddressedOfTwoWorkersCrashes_theGatewayAndTheOtherWorkerStayUp() throws Exception {
    int[] ports = freePorts(3);
    ActorSystem<Void> w1 = start(ports[0], "worker", true); // the lowest address
    ActorSystem<Void> w2 = start(ports[1], "worker", false);
    ActorSystem<Void> gateway = start(ports[2], "gateway", false);
    for (ActorSystem<Void> s : List.of(w1, w2, gateway)) {
      Cluster.get(s).manager().tell(Join.create(Cluster.get(w1).selfMember().address()));
    }
    ActorTestKit kit = ActorTestKit.create(gateway);
    TestProbe<Object> probe = kit.createTestProbe();
    probe.awaitAssert(Duration.ofSeconds(30), () -> {
      assertEquals(3, upMembers(gateway));
      return null;
    });

    systems.remove(w1);
    w1.terminate();
    w1.getWhenTerminated().toCompletableFuture().join();

    probe.awaitAssert(Duration.ofSeconds(40), () -> {
      assertEquals(2, upMembers(gateway), "the crashed worker is removed");
      assertEquals(2, upMembers(w2));
      return null;
    });
    assertEquals(MemberStatus.up(), Cluster.get(gateway).selfMember().status());
    assertEquals(MemberStatus.up(), Cluster.get(w2).selfMember().status());
    assertTrue(!gateway.whenTerminated().isCompleted() && !w2.whenTerminated().isCompleted());
  }

  private static int upMembers(ActorSystem<?> system) {
    int up = 0;
    for (Member m : Cluster.get(system).state().getMembers()) {
      if (m.status() == MemberStatus.up()) {
        up++;
      }
    }
    return up;
  }
}
