package dev.shardserve.deploy;

import com.typesafe.config.Config;
import dev.shardserve.node.runtime.GpuDiscovery;
import dev.shardserve.node.runtime.NodeDevices;
import dev.shardserve.node.runtime.SessionSettings;
import dev.shardserve.settings.ShardServeConfig;
import picocli.CommandLine.Option;

/**
 * A worker's GPUs ({@code node}, {@code standalone}): found before the actor system starts,
 * because the node's roles depend on them ({@code gpu} when it has one).
 */
final class GpuOptions {
  @Option(names = "--gpus", paramLabel = "auto|none|0,1", defaultValue = "${env:SHARDSERVE_GPUS:-}",
      description = "This node's GPUs: auto (list TensorFlow's devices at start), none, or GPU indices where "
          + "listing is impossible; they also become TensorFlow's visible devices (one node process per GPU: "
          + "--gpus 0 on one, --gpus 1 on another). A node with a GPU takes role gpu. (env SHARDSERVE_GPUS; "
          + "default: shardserve.node.gpus = auto)")
  String gpus;

  /** The GPUs found ({@code --gpus}, else {@code shardserve.node.gpus}); throws IllegalArgumentException naming a bad value. */
  NodeDevices devices() {
    Config defaults = ShardServeConfig.load();
    String setting = gpus != null && !gpus.isBlank() ? gpus : defaults.getString("shardserve.node.gpus");
    SessionSettings session = SessionSettings.fromConfig(defaults.getConfig("shardserve.node.tensorflow"));
    GpuDiscovery discovery = GpuDiscovery.fromSetting(setting, session);
    return NodeDevices.discover(discovery, !setting.trim().equalsIgnoreCase("auto"));
  }
}
