package dev.shardserve.deploy;

import com.typesafe.config.ConfigFactory;
import dev.shardserve.gateway.security.Security;
import dev.shardserve.gateway.security.SecuritySettings;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * TLS and authentication of a process's HTTP listeners (README "Security"): every option maps to
 * a key of {@code shardserve.security}; {@link #validate()} reads every file once, so that a bad
 * key file line or certificate stops the start (exit 2) naming the file and line.
 */
final class SecurityOptions {
  @Option(names = "--tls-cert", paramLabel = "FILE", defaultValue = "${env:SHARDSERVE_TLS_CERT}",
      description = "PEM certificate chain, server certificate first: HTTPS on every HTTP listener; re-read when "
          + "it changes (env SHARDSERVE_TLS_CERT).")
  Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "FILE", defaultValue = "${env:SHARDSERVE_TLS_KEY}",
      description = "Its unencrypted PKCS#8 or PKCS#1 PEM key (env SHARDSERVE_TLS_KEY).")
  Path tlsKey;

  @Option(names = "--tls-client-ca", paramLabel = "FILE", defaultValue = "${env:SHARDSERVE_TLS_CLIENT_CA}",
      description = "PEM CA certificate(s) of client certificates: mutual TLS, clients without one are refused "
          + "(env SHARDSERVE_TLS_CLIENT_CA).")
  Path tlsClientCa;

  @Option(names = "--api-keys", paramLabel = "FILE", defaultValue = "${env:SHARDSERVE_API_KEYS}",
      description = "API key file, one key per line: name:scope1,scope2:sha256hex[:model1,model2], scopes infer, "
          + "admin, metrics; re-read when it changes (env SHARDSERVE_API_KEYS).")
  Path apiKeys;

  @Option(names = "--jwt-jwks", paramLabel = "FILE", defaultValue = "${env:SHARDSERVE_JWT_JWKS}",
      description = "JWKS file of the keys that sign JWT bearer tokens (RS256/ES256); re-read when it changes "
          + "(env SHARDSERVE_JWT_JWKS).")
  Path jwtJwks;

  @Option(names = "--jwt-issuer", defaultValue = "${env:SHARDSERVE_JWT_ISSUER}",
      description = "Required 'iss' of JWT bearer tokens (env SHARDSERVE_JWT_ISSUER).")
  String jwtIssuer;

  @Option(names = "--jwt-audience", defaultValue = "${env:SHARDSERVE_JWT_AUDIENCE}",
      description = "Required 'aud' of JWT bearer tokens (env SHARDSERVE_JWT_AUDIENCE).")
  String jwtAudience;

  Map<String, Object> config() {
    Map<String, Object> c = new HashMap<>();
    put(c, "shardserve.security.tls.cert-file", tlsCert);
    put(c, "shardserve.security.tls.key-file", tlsKey);
    put(c, "shardserve.security.tls.client-ca-file", tlsClientCa);
    put(c, "shardserve.security.api-keys-file", apiKeys);
    put(c, "shardserve.security.jwt.jwks-file", jwtJwks);
    if (jwtIssuer != null) {
      c.put("shardserve.security.jwt.issuer", jwtIssuer);
    }
    if (jwtAudience != null) {
      c.put("shardserve.security.jwt.audience", jwtAudience);
    }
    return c;
  }

  /** Reads every configured file now; throws IllegalArgumentException naming the bad file, line or value. */
  void validate() {
    Security.validate(SecuritySettings.fromConfig(ConfigFactory.parseMap(config())
        .withFallback(ConfigFactory.defaultReference())));
  }

  private static void put(Map<String, Object> c, String key, Path file) {
    if (file != null) {
      c.put(key, file.toAbsolutePath().toString());
    }
  }
}
