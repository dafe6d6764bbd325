package dev.shardserve.settings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DrainTimeoutTest {

  private static Duration phase(Config config, String phase) {
    return config.getDuration("akka.coordinated-shutdown.phases." + phase + ".timeout");
  }

  private static Duration timeout(CoordinatedShutdown shutdown, String phase) {
    return Duration.ofMillis(shutdown.timeout(phase).toMillis());
  }

  @Test
  void theDefault_givesADrain30Seconds_notAkkas5And10() {
    Config config = ShardServeConfig.load();
    assertEquals(Duration.ofSeconds(30), DrainTimeout.fromConfig(config).value());
    assertEquals(Duration.ofSeconds(30), phase(config, "service-unbind"));
    assertEquals(Duration.ofSeconds(35), phase(config, "service-requests-done"));
    assertEquals(Duration.ofSeconds(35), phase(config, "cluster-sharding-shutdown-region"));
    assertEquals(Duration.ofSeconds(30), phase(config, "cluster-leave"));
    assertEquals(Duration.ofSeconds(35), phase(config, "cluster-exiting"));
  }

  @Test
  void thePhaseTimeouts_followTheSetting_inTheRunningSystem() {
    Config config = ShardServeConfig.load(ConfigFactory.parseMap(Map.of(
        DrainTimeout.KEY, "42s", "akka.remote.artery.canonical.port", 0)));
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "DrainTimeoutTest", config);
    try {
      CoordinatedShutdown shutdown = CoordinatedShutdown.get(system.classicSystem());
      for (Map.Entry<String, Duration> e : new DrainTimeout(Duration.ofSeconds(42)).phaseTimeouts().entrySet()) {
        assertEquals(e.getValue(), timeout(shutdown, e.getKey()), e.getKey());
      }
      assertEquals(Duration.ofSeconds(47), timeout(shutdown, CoordinatedShutdown.PhaseServiceRequestsDone()));
      assertEquals(Duration.ofSeconds(47),
          timeout(shutdown, CoordinatedShutdown.PhaseClusterShardingShutdownRegion()));
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }

  @Test
  void anExplicitPhaseTimeout_stillWinsOverTheDerivedOne() {
    Config config = ShardServeConfig.load(ConfigFactory.parseMap(Map.of(DrainTimeout.KEY, "20s",
        "akka.coordinated-shutdown.phases.cluster-leave.timeout", "3s")));
    assertEquals(Duration.ofSeconds(3), phase(config, "cluster-leave"));
    assertEquals(Duration.ofSeconds(25), phase(config, "service-requests-done"));
  }

  @Test
  void aBadValue_isRefusedNamingTheKeyAndTheValue() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ShardServeConfig.load(ConfigFactory.parseMap(Map.of(DrainTimeout.KEY, "soon"))));
    assertTrue(e.getMessage().contains(DrainTimeout.KEY) && e.getMessage().contains("soon"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new DrainTimeout(Duration.ofMillis(10)));
    assertTrue(e.getMessage().contains(DrainTimeout.KEY) && e.getMessage().contains("PT0.01S"), e.getMessage());
  }
}
