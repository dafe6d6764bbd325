package dev.shardserve.deploy;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.settings.DrainTimeout;
import java.time.Duration;
import java.util.Map;
import picocli.CommandLine.Option;

/** How long a stopping process gives the work it accepted: {@code shardserve.drain-timeout}. */
final class DrainOptions {
  @Option(names = "--drain-timeout", paramLabel = "DURATION", defaultValue = "${env:SHARDSERVE_DRAIN_TIMEOUT}",
      description = "How long a stopping process (SIGTERM, drain, rolling restart) gives requests in flight and "
          + "queued batches to finish, e.g. 30s or 2m; Coordinated Shutdown's phase timeouts follow it "
          + "(env SHARDSERVE_DRAIN_TIMEOUT; default 30s).")
  String drainTimeout;

  /** The setting, when given; throws {@link IllegalArgumentException} naming a bad value. */
  Map<String, Object> config() {
    if (drainTimeout == null || drainTimeout.isBlank()) {
      return Map.of();
    }
    Duration value;
    try {
      value = ConfigFactory.parseMap(Map.of("d", drainTimeout.trim())).getDuration("d");
    } catch (ConfigException e) {
      throw new IllegalArgumentException("--drain-timeout: '" + drainTimeout + "' is not a duration such as 30s or 2m");
    }
    try {
      new DrainTimeout(value);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--drain-timeout: must be between 1s and 1h, was '" + drainTimeout + "'");
    }
    return Map.of(DrainTimeout.KEY, value.toMillis() + "ms");
  }
}
