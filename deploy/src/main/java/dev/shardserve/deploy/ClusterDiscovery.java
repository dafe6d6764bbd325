package dev.shardserve.deploy;

import java.util.Map;

/**
 * How a {@code node} or {@code gateway} finds its cluster: the {@code --seed} list, or Akka Cluster
 * Bootstrap over the Kubernetes API (pods labelled {@code app=shardserve} in the pod's own
 * namespace, probed on their container port named {@code management}).
 */
enum ClusterDiscovery {
  SEEDS("seeds"),
  KUBERNETES_API("kubernetes-api");

  /** The label value pods carry ({@code app=<service-name>}); Akka's default is the system name. */
  static final String SERVICE_NAME = Processes.SYSTEM_NAME;
  /** The container port Akka's Kubernetes discovery looks for, and the manifests name. */
  static final String MANAGEMENT_PORT_NAME = "management";

  final String cliName;

  ClusterDiscovery(String cliName) {
    this.cliName = cliName;
  }

  static ClusterDiscovery parse(String value) {
    for (ClusterDiscovery d : values()) {
      if (d.cliName.equals(value)) {
        return d;
      }
    }
    throw new IllegalArgumentException("--discovery must be seeds or kubernetes-api, was '" + value + "'");
  }

  /** The Akka settings this discovery needs, over shardserve's defaults. */
  Map<String, Object> config() {
    if (this == SEEDS) {
      return Map.of();
    }
    String bootstrap = "akka.management.cluster.bootstrap.";
    return Map.of(
        bootstrap + "contact-point-discovery.discovery-method", "kubernetes-api",
        bootstrap + "contact-point-discovery.service-name", SERVICE_NAME,
        bootstrap + "contact-point-discovery.port-name", MANAGEMENT_PORT_NAME,
        // Contact points by pod IP, as the members' Artery addresses are (SHARDSERVE_HOSTNAME = the pod IP);
        // without it 1.1.4 turns an IP into <a-b-c-d>.<namespace>.pod.cluster.local, which needs pod DNS records.
        "akka.discovery.kubernetes-api.use-raw-ip", "true",
        // A pod that found contact points but cannot join exits, and Kubernetes restarts it.
        "akka.cluster.shutdown-after-unsuccessful-join-seed-nodes", "60s");
  }
}
