package dev.shardserve.deploy;

import akka.actor.typed.ActorSystem;
import akka.management.cluster.bootstrap.ClusterBootstrap;
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

  @Option(names = "--discovery", paramLabel = "seeds|kubernetes-api",
      defaultValue = "${env:SHARDSERVE_DISCOVERY:-seeds}",
      description = "How the cluster forms (env SHARDSERVE_DISCOVERY; default ${DEFAULT-VALUE}): seeds joins the "
          + "--seed nodes; kubernetes-api runs Akka Cluster Bootstrap, which finds the other pods labelled "
          + "app=shardserve through the Kubernetes API and probes them on their container port named management.")
  String discovery;

  @Option(names = "--app-version", paramLabel = "VERSION", defaultValue = "${env:SHARDSERVE_APP_VERSION}",
      description = "This process's application version (akka.cluster.app-version; env SHARDSERVE_APP_VERSION; "
          + "default the jar's version): in a rolling update, shards move to the members of the newest version.")
  String appVersion;

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
    Map<String, Object> values = new TreeMap<>();
    switch (discovery()) {
      case SEEDS -> {
        if (seedNodes.isEmpty()) {
          throw new IllegalArgumentException(command + " needs --seed HOST:PORT (or SHARDSERVE_SEEDS): the cluster "
              + "to join; or --discovery kubernetes-api");
        }
        values.put("akka.cluster.seed-nodes", seedNodes);
      }
      case KUBERNETES_API -> {
        if (!seedNodes.isEmpty()) {
          throw new IllegalArgumentException("--discovery kubernetes-api finds the cluster itself: give no --seed "
              + "(or SHARDSERVE_SEEDS), was " + seeds);
        }
        values.putAll(ClusterDiscovery.KUBERNETES_API.config());
      }
    }
    values.put("akka.remote.artery.canonical.hostname", hostname);
    values.put("akka.remote.artery.canonical.port", arteryPort);
    values.put("akka.cluster.roles", roles);
    String version = appVersion();
    if (version != null) {
      values.put("akka.cluster.app-version", version);
    }
    // A process of a cluster exits when it has left or was downed (SBR), so that its supervisor
    // (script, container, Kubernetes) restarts it. Not in standalone or in-JVM tests.
    values.put("akka.coordinated-shutdown.exit-jvm", "on");
    return ConfigFactory.parseMap(values);
  }

  /** The chosen discovery; throws {@link IllegalArgumentException} naming an unknown value. */
  ClusterDiscovery discovery() {
    return ClusterDiscovery.parse(discovery);
  }

  /**
   * The application version: the option, else the jar's version, else none (Akka's default
   * 0.0.0); throws {@link IllegalArgumentException} for a value that is not a version number.
   */
  String appVersion() {
    String v = appVersion != null && !appVersion.isBlank() ? appVersion.trim()
        : ShardServe.class.getPackage().getImplementationVersion();
    if (v != null && !v.matches("[0-9]+(\\.[0-9]+){0,2}([-+][0-9A-Za-z.+-]*)?")) {
      throw new IllegalArgumentException("--app-version must be a version number such as 1.2.3 or 1.2.3-rc1 "
          + "(rolling updates compare them), was '" + v + "'");
    }
    return v;
  }

  /** Starts what the discovery needs once Akka Management runs: Cluster Bootstrap for kubernetes-api. */
  void startDiscovery(ActorSystem<?> system) {
    if (discovery() == ClusterDiscovery.KUBERNETES_API) {
      ClusterBootstrap.get(system.classicSystem()).start();
    }
  }
}
