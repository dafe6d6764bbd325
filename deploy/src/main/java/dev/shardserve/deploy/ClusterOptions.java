package dev.shardserve.deploy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.Option;

/** Options of the processes that join a cluster: their Artery endpoint and the seeds to join. */
final class ClusterOptions {
  @Option(names = "--hostname", defaultValue = "${env:SHARDSERVE_HOSTNAME:-127.0.0.1}",
      description = "Host name or IP other cluster members reach this process at (env SHARDSERVE_HOSTNAME; "
          + "default ${DEFAULT-VALUE}).")
  String hostname;

  @Option(names = "--artery-port", defaultValue = "${env:SHARDSERVE_ARTERY_PORT:-25520}",
      description = "Cluster remoting port (env SHARDSERVE_ARTERY_PORT; default ${DEFAULT-VALUE}).")
  int arteryPort;

  @Option(names = "--seed", split = ",", paramLabel = "HOST:PORT",
      defaultValue = "${env:SHARDSERVE_SEEDS:-}",
      description = "Seed node(s) to join, as host:artery-port; repeat or separate with commas "
          + "(env SHARDSERVE_SEEDS). A process may list itself: the first seed forms the cluster.")
  List<String> seeds = new ArrayList<>();

  /**
   * Akka settings for this process, over the defaults of every module's reference.conf; throws
   * {@link IllegalArgumentException} naming a missing or malformed seed.
   */
  Config config(String command, List<String> roles) {
    List<String> seedNodes = new ArrayList<>();
    for (String s : seeds) {
      if (!s.isBlank()) {
        seedNodes.add("akka://" + Processes.SYSTEM_NAME + "@" + HostPort.parse(s.trim(), "--seed"));
      }
    }
    if (seedNodes.isEmpty()) {
      throw new IllegalArgumentException(command + " needs --seed HOST:PORT (or SHARDSERVE_SEEDS): the cluster to join");
    }
    Map<String, Object> values = new TreeMap<>();
    values.put("akka.remote.artery.canonical.hostname", hostname);
    values.put("akka.remote.artery.canonical.port", arteryPort);
    values.put("akka.cluster.roles", roles);
    values.put("akka.cluster.seed-nodes", seedNodes);
    // A process of a cluster exits when it has left or was downed (SBR), so that its supervisor
    // (script, container, Kubernetes) restarts it. Not in standalone or in-JVM tests.
    values.put("akka.coordinated-shutdown.exit-jvm", "on");
    return ConfigFactory.parseMap(values);
  }
}
