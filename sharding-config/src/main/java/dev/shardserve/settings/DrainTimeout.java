package dev.shardserve.settings;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code shardserve.drain-timeout}: how long a process that stops (SIGTERM, a drain through the
 * admin API, a rolling restart) gives the work it has accepted to finish. Coordinated Shutdown's
 * phase timeouts are derived from it, so that no phase cuts a drain short (Akka's defaults stop
 * a gateway's requests after 5 s and a node's handoff after 10 s):
 *
 * <ul>
 *   <li>{@code service-unbind}: the drain timeout (listeners unbind; new connections are refused);
 *   <li>{@code service-requests-done}: drain timeout + {@link #MARGIN} (requests in flight on the
 *       HTTP and gRPC listeners get the drain timeout: {@link #value()} is their hard deadline);
 *   <li>{@code cluster-sharding-shutdown-region}: drain timeout + margin (replicas refuse new work,
 *       finish what is queued and running, then hand their shards off);
 *   <li>{@code cluster-leave}: the drain timeout; {@code cluster-exiting}: drain timeout + margin
 *       (the member leaves and waits to be removed; on busy machines gossip takes seconds).
 * </ul>
 *
 * Other phases keep Akka's timeouts. An explicit {@code akka.coordinated-shutdown.phases.*}
 * setting in {@code application.conf} or on the command line still wins over the derived one.
 */
public record DrainTimeout(Duration value) {
  public static final String KEY = "shardserve.drain-timeout";
  /** How much longer a phase lasts than the work it waits for, so that the work ends it, not the timeout. */
  public static final Duration MARGIN = Duration.ofSeconds(5);
  static final Duration MAX = Duration.ofHours(1);

  public DrainTimeout {
    if (value == null || value.compareTo(Duration.ofSeconds(1)) < 0 || value.compareTo(MAX) > 0) {
      throw new IllegalArgumentException(KEY + " must be between 1s and 1h, was " + value);
    }
  }

  public static DrainTimeout fromConfig(Config config) {
    try {
      return new DrainTimeout(config.getDuration(KEY));
    } catch (ConfigException.WrongType | ConfigException.BadValue e) {
      throw new IllegalArgumentException(KEY + " must be a duration such as 30s, was '"
          + config.getValue(KEY).unwrapped() + "'", e);
    }
  }

  /** The phase timeouts derived from this drain timeout, by Coordinated Shutdown phase name. */
  public Map<String, Duration> phaseTimeouts() {
    Map<String, Duration> phases = new LinkedHashMap<>();
    phases.put("service-unbind", value);
    phases.put("service-requests-done", value.plus(MARGIN));
    phases.put("cluster-sharding-shutdown-region", value.plus(MARGIN));
    phases.put("cluster-leave", value);
    phases.put("cluster-exiting", value.plus(MARGIN));
    return phases;
  }

  /** {@link #phaseTimeouts()} as Akka settings. */
  Config phaseTimeoutsConfig() {
    Map<String, Object> settings = new LinkedHashMap<>();
    phaseTimeouts().forEach((phase, timeout) ->
        settings.put("akka.coordinated-shutdown.phases." + phase + ".timeout", timeout.toMillis() + "ms"));
    return ConfigFactory.parseMap(settings, "derived from " + KEY + " = " + value);
  }
}
