package dev.shardserve.settings;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

/**
 * Loads a process's configuration: command-line overrides, then {@code application.conf}, then
 * {@code shardserve-akka.conf} (the Akka settings shardserve needs: cluster provider, Artery
 * frame sizes, split brain resolver...), then every module's {@code reference.conf}. Akka's own
 * reference.conf would override ours if they were merged at the same level, hence the layer.
 */
public final class ShardServeConfig {
  public static final String AKKA_DEFAULTS = "shardserve-akka.conf";

  private ShardServeConfig() {}

  public static Config load(Config overrides) {
    Config app = ConfigFactory.defaultOverrides()
        .withFallback(overrides)
        .withFallback(ConfigFactory.defaultApplication())
        .withFallback(ConfigFactory.parseResources(ShardServeConfig.class.getClassLoader(), AKKA_DEFAULTS))
        .withFallback(ConfigFactory.defaultReference());
    return app.resolve();
  }

  public static Config load() {
    return load(ConfigFactory.empty());
  }
}
