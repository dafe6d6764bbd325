package dev.shardserve.gateway.security;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * TLS on the HTTP (and gRPC) listeners, from {@code shardserve.security.tls}: the certificate
 * chain and key files (PEM), an optional client CA (mutual TLS), the protocol versions (TLS 1.2
 * and 1.3 only) and the cipher suites. Null from {@link #fromConfig} when no certificate is set.
 */
public record TlsSettings(Path certFile, Path keyFile, Path clientCaFile, List<String> protocols,
    List<String> cipherSuites) {

  private static final Set<String> ALLOWED_PROTOCOLS = Set.of("TLSv1.2", "TLSv1.3");

  public TlsSettings {
    if (certFile == null || keyFile == null) {
      throw new IllegalArgumentException("TLS needs both shardserve.security.tls.cert-file and key-file "
          + "(--tls-cert, --tls-key), was '" + certFile + "' and '" + keyFile + "'");
    }
    protocols = List.copyOf(protocols);
    cipherSuites = List.copyOf(cipherSuites);
    if (protocols.isEmpty()) {
      throw new IllegalArgumentException("shardserve.security.tls.protocols must not be empty");
    }
    for (String p : protocols) {
      if (!ALLOWED_PROTOCOLS.contains(p)) {
        throw new IllegalArgumentException("shardserve.security.tls.protocols may hold TLSv1.2 and TLSv1.3 only, "
            + "was '" + p + "'");
      }
    }
    if (cipherSuites.isEmpty()) {
      throw new IllegalArgumentException("shardserve.security.tls.cipher-suites must not be empty");
    }
  }

  static TlsSettings fromConfig(Config security) {
    Config c = security.getConfig("tls");
    String cert = c.getString("cert-file");
    String key = c.getString("key-file");
    String ca = c.getString("client-ca-file");
    if (cert.isBlank() && key.isBlank()) {
      if (!ca.isBlank()) {
        throw new IllegalArgumentException("shardserve.security.tls.client-ca-file (--tls-client-ca) needs "
            + "--tls-cert and --tls-key, was '" + ca + "'");
      }
      return null;
    }
    return new TlsSettings(cert.isBlank() ? null : Path.of(cert), key.isBlank() ? null : Path.of(key),
        ca.isBlank() ? null : Path.of(ca), c.getStringList("protocols"), c.getStringList("cipher-suites"));
  }
}
