package dev.shardserve.settings;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Loads a process's configuration: command-line overrides, then {@code application.conf}, then
 * {@code shardserve-akka.conf} (the Akka settings shardserve needs: cluster provider, Artery
 * frame sizes, split brain resolver...), then every module's {@code reference.conf}. Akka's own
 * reference.conf would override ours if they were merged at the same level, hence the layer.
 * Coordinated Shutdown's phase timeouts are derived from {@code shardserve.drain-timeout}
 * ({@link DrainTimeout}), between the application's settings and the defaults.
 */
public final class ShardServeConfig {
  public static final String AKKA_DEFAULTS = "shardserve-akka.conf";

  private ShardServeConfig() {}

  public static Config load(Config overrides) {
    Config app = ConfigFactory.defaultOverrides()
        .withFallback(overrides)
        .withFallback(ConfigFactory.defaultApplication());
    Config defaults = ConfigFactory.parseResources(ShardServeConfig.class.getClassLoader(), AKKA_DEFAULTS)
        .withFallback(ConfigFactory.defaultReference());
    // Coordinated Shutdown's phase timeouts follow the drain timeout, below explicit settings.
    DrainTimeout drain = DrainTimeout.fromConfig(app.withFallback(defaults).resolve());
    return durable(app.withFallback(drain.phaseTimeoutsConfig()).withFallback(defaults).resolve());
  }

  /**
   * With {@code shardserve.data-dir} set, the desired state is durable: stored by LMDB in that
   * folder (Akka's default folder name contains the Artery port, so with port 0 it would be lost
   * on restart). Without it, the desired state lives in memory and in the other nodes.
   */
  static Config durable(Config config) {
    String dir = config.getString("shardserve.data-dir");
    if (dir.isBlank()) {
      return config;
    }
    // Not named "ddata": Akka appends the system name and Artery port to a folder of that name.
    Path ddata = Path.of(dir).toAbsolutePath().resolve("desired-state");
    return ConfigFactory.parseMap(Map.of(
            "akka.cluster.distributed-data.durable.keys", List.of(dev.shardserve.desired.DesiredState.KEY_ID),
            "akka.cluster.distributed-data.durable.lmdb.dir", ddata.toString()))
        .withFallback(config).resolve();
  }

  public static Config load() {
    return load(ConfigFactory.empty());
  }
}
