package dev.shardserve.metrics;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import akka.cluster.typed.Leave;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.logging.LifecycleLog;
import dev.shardserve.settings.ShardServeConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class ClusterMembersListenerTest {
  private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
  private final Logger lifecycleLogger = (Logger) LoggerFactory.getLogger(LifecycleLog.LOGGER);
  private ActorSystem<Void> a;
  private ActorSystem<Void> b;

  @BeforeEach
  void captureLifecycle() {
    lines.start();
    lifecycleLogger.setLevel(ch.qos.logback.classic.Level.INFO);
    lifecycleLogger.addAppender(lines);
  }

  @AfterEach
  void stop() {
    lifecycleLogger.detachAppender(lines);
    for (ActorSystem<Void> s : new ActorSystem[] {a, b}) {
      if (s != null) {
        s.terminate();
        s.getWhenTerminated().toCompletableFuture().join();
      }
    }
  }

  private static ActorSystem<Void> system(List<String> roles) {
    return ActorSystem.create(Behaviors.empty(), "shardserve", ShardServeConfig.load(ConfigFactory.parseMap(Map.of(
        "akka.remote.artery.canonical.port", 0,
        "akka.cluster.roles", roles,
        "shardserve.metrics.port", -1))));
  }

  private static double members(ActorSystem<?> system, String status, String role, String reachable) {
    Samples s = new Samples(ShardServeMetrics.get(system).registry());
    List<?> points = s.points("shardserve_cluster_members", "status", status, "role", role, "reachable", reachable);
    return points.isEmpty() ? 0 : s.value("shardserve_cluster_members", "status", status, "role", role,
        "reachable", reachable);
  }

  private List<String> messages() {
    synchronized (lines.list) {
      return lines.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }
  }

  @Test
  void memberWithTwoRoles_countsUnderEach_andItsJoinIsLogged() {
    a = system(List.of("worker", "gateway"));
    ShardServeMetrics.get(a);
    Cluster.get(a).manager().tell(Join.create(Cluster.get(a).selfMember().address()));
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      assertEquals(1.0, members(a, "up", "worker", "true"));
      assertEquals(1.0, members(a, "up", "gateway", "true"));
    });
    assertEquals(0.0, members(a, "up", "dc-default", "true"), "Akka's data-centre role is not a role");
    String self = Cluster.get(a).selfMember().address().toString();
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
        assertTrue(messages().contains("event=node_joined node=" + self + " roles=gateway,worker"), messages().toString()));
  }

  @Test
  void memberThatLeaves_isRemovedFromTheCount_andItsLeaveIsLogged() {
    a = system(List.of("worker"));
    b = system(List.of("worker"));
    ShardServeMetrics.get(a);
    akka.actor.Address seed = Cluster.get(a).selfMember().address();
    Cluster.get(a).manager().tell(Join.create(seed));
    Cluster.get(b).manager().tell(Join.create(seed));
    // Both must see the other Up: a Leave issued before the gossip converged can be lost.
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      assertEquals(2.0, members(a, "up", "worker", "true"));
      assertEquals(MemberStatus.up(), Cluster.get(b).selfMember().status());
    });

    akka.actor.Address leaving = Cluster.get(b).selfMember().address();
    Cluster.get(a).manager().tell(Leave.create(leaving));
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      assertEquals(1.0, members(a, "up", "worker", "true"));
      assertTrue(messages().contains("event=node_left node=" + leaving + " roles=worker previous_status=exiting"),
          messages().toString());
    });
    assertTrue(messages().contains("event=node_leaving node=" + leaving + " roles=worker"), messages().toString());
  }

  @Test
  void status_isSnakeCase() {
    assertEquals("up", MemberCounts.status(MemberStatus.up()));
    assertEquals("weakly_up", MemberCounts.status(MemberStatus.weaklyUp()));
    assertEquals("leaving", MemberCounts.status(MemberStatus.leaving()));
  }
}
