package dev.shardserve.deploy;

import java.util.Map;
import picocli.CommandLine.Option;

/** Akka Management's listener: /alive, /ready, /cluster/members, /cluster/shards/{name}. */
final class ManagementOptions {
  @Option(names = "--management-port", defaultValue = "${env:SHARDSERVE_MANAGEMENT_PORT:-8558}",
      description = "Akka Management port: /alive, /ready, /cluster/members (env SHARDSERVE_MANAGEMENT_PORT; "
          + "default ${DEFAULT-VALUE}; 0 picks a free one).")
  int managementPort;

  @Option(names = "--management-host", defaultValue = "${env:SHARDSERVE_MANAGEMENT_HOST:-127.0.0.1}",
      description = "Interface Akka Management binds (env SHARDSERVE_MANAGEMENT_HOST; default ${DEFAULT-VALUE}).")
  String managementHost;

  Map<String, Object> config() {
    if (managementPort < 0 || managementPort > 65535) {
      throw new IllegalArgumentException("--management-port must be 0-65535, was " + managementPort);
    }
    return Map.of("akka.management.http.hostname", managementHost, "akka.management.http.port", managementPort);
  }
}
