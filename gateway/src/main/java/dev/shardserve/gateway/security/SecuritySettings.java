package dev.shardserve.gateway.security;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The settings of {@code shardserve.security}: TLS (null when off), the API key file, the JWT
 * verifier's JWKS file, issuer and audience (all three or none), and how often the files are
 * checked for changes. Validated with messages naming the key and value.
 */
public record SecuritySettings(TlsSettings tls, Path apiKeysFile, Path jwksFile, String jwtIssuer,
    String jwtAudience, Duration jwtClockSkew, Duration reloadInterval) {

  public SecuritySettings {
    boolean anyJwt = jwksFile != null || !jwtIssuer.isBlank() || !jwtAudience.isBlank();
    if (anyJwt && (jwksFile == null || jwtIssuer.isBlank() || jwtAudience.isBlank())) {
      throw new IllegalArgumentException("JWT verification needs all of shardserve.security.jwt.jwks-file, issuer "
          + "and audience (--jwt-jwks, --jwt-issuer, --jwt-audience), was '" + (jwksFile == null ? "" : jwksFile)
          + "', '" + jwtIssuer + "' and '" + jwtAudience + "'");
    }
    if (reloadInterval.isZero() || reloadInterval.isNegative()) {
      throw new IllegalArgumentException("shardserve.security.reload-interval must be > 0, was " + reloadInterval);
    }
    if (jwtClockSkew.isNegative()) {
      throw new IllegalArgumentException("shardserve.security.jwt.clock-skew must be >= 0, was " + jwtClockSkew);
    }
  }

  public static SecuritySettings fromConfig(Config root) {
    Config c = root.getConfig("shardserve.security");
    return new SecuritySettings(TlsSettings.fromConfig(c), path(c.getString("api-keys-file")),
        path(c.getString("jwt.jwks-file")), c.getString("jwt.issuer"), c.getString("jwt.audience"),
        c.getDuration("jwt.clock-skew"), c.getDuration("reload-interval"));
  }

  /** Whether any authentication (API keys or JWT) is configured. */
  public boolean authentication() {
    return apiKeysFile != null || jwksFile != null;
  }

  private static Path path(String s) {
    return s.isBlank() ? null : Path.of(s);
  }
}
