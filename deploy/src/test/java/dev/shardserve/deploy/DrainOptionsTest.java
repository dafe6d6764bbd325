package dev.shardserve.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.shardserve.settings.DrainTimeout;
import dev.shardserve.settings.ShardServeConfig;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class DrainOptionsTest {

  private static DrainOptions parse(String... args) {
    DrainOptions options = new DrainOptions();
    new CommandLine(options).parseArgs(args);
    return options;
  }

  @Test
  void drainTimeout_setsTheSetting_andThePhaseTimeoutsFollow() {
    Map<String, Object> config = parse("--drain-timeout", "2m").config();
    assertEquals(Map.of(DrainTimeout.KEY, "120000ms"), config);
    assertEquals(Duration.ofSeconds(125), ShardServeConfig.load(ConfigFactory.parseMap(config))
        .getDuration("akka.coordinated-shutdown.phases.cluster-sharding-shutdown-region.timeout"));
  }

  @Test
  void withoutTheOption_nothingIsSet() {
    // (SHARDSERVE_DRAIN_TIMEOUT is not set in the test environment)
    assertEquals(Map.of(), parse().config());
  }

  @Test
  void aBadValue_isRefusedNamingTheOptionAndTheValue() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> parse("--drain-timeout", "forever").config());
    assertTrue(e.getMessage().contains("--drain-timeout") && e.getMessage().contains("forever"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> parse("--drain-timeout", "5ms").config());
    assertTrue(e.getMessage().contains("between 1s and 1h") && e.getMessage().contains("5ms"), e.getMessage());
  }
}
