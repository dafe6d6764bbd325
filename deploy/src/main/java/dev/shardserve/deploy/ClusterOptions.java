package dev.shardserve.deploy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.Option;

/** Options every cluster process shares: where its Artery endpoint is and which seeds to join. */
final class ClusterOptions {
  @Option(names = "--hostname", defaultValue = "${env:SHARDSERVE_HOSTNAME:-127.0.0.1}",
      description = "Host name or IP other cluster members reach this process at (env SHARDSERVE_HOSTNAME; "
          + "default ${DEFAULT-VALUE}).")
  String hostname;

  @Option(names = "--seed", split = ",", paramLabel = "HOST:PORT",
      defaultValue = "${env:SHARDSERVE_SEEDS:-}",
      description = "Seed node(s) to join, as host:artery-port; repeat or separate with commas "
          + "(env SHARDSERVE_SEEDS). A process may list itself: the first seed forms the cluster.")
  List<String> seeds = new ArrayList<>();

  /** Akka settings for this process, over the defaults of every module's reference.conf. */
  Config config(int arteryPort, List<String> roles) {
    Map<String, Object> values = new TreeMap<>();
    values.put("akka.remote.artery.canonical.hostname", hostname);
    values.put("akka.remote.artery.canonical.port", arteryPort);
    values.put("akka.cluster.roles", roles);
    List<String> seedNodes = new ArrayList<>();
    for (String s : seeds) {
      if (s.isBlank()) {
        continue;
      }
      seedNodes.add("akka://" + Processes.SYSTEM_NAME + "@" + HostPort.parse(s.trim(), "--seed"));
    }
    values.put("akka.cluster.seed-nodes", seedNodes);
    return ConfigFactory.parseMap(values);
  }

  boolean hasSeeds() {
    return seeds.stream().anyMatch(s -> !s.isBlank());
  }
}
