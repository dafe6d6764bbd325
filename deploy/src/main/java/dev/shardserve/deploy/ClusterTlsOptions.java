package dev.shardserve.deploy;

import dev.shardserve.gateway.security.ClusterTls;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/** Artery over TLS with mutual authentication between the processes of a cluster. */
final class ClusterTlsOptions {
  @Option(names = "--cluster-tls-dir", paramLabel = "DIR", defaultValue = "${env:SHARDSERVE_CLUSTER_TLS_DIR}",
      description = "Folder with tls.key, tls.crt and ca.crt (RSA, issued directly by the CA; `shardserve certs` "
          + "writes one): cluster traffic over mutual TLS, only processes with the CA's certificate can join "
          + "(env SHARDSERVE_CLUSTER_TLS_DIR). Without it, cluster traffic is plain TCP.")
  Path dir;

  /** The Akka settings; validates the folder first (IllegalArgumentException naming the file). */
  Map<String, Object> config() {
    if (dir == null) {
      return Map.of();
    }
    ClusterTls.validate(dir);
    return ClusterTls.config(dir);
  }
}
