package dev.shardserve.gateway.security;

/**
 * Checks a {@link Credential} against the configured API keys and JWT verifier (either may be
 * absent, not both). The key file and JWKS are {@link WatchedFile}s: the values in force are read
 * once per request.
 */
final class Authenticator {
  private final WatchedFile<ApiKeys> keys;
  private final WatchedFile<JwtVerifier> jwt;

  Authenticator(WatchedFile<ApiKeys> keys, WatchedFile<JwtVerifier> jwt) {
    if (keys == null && jwt == null) {
      throw new IllegalArgumentException("an authenticator needs API keys or a JWT verifier");
    }
    this.keys = keys;
    this.jwt = jwt;
  }

  Decision authenticate(Credential c) {
    switch (c.kind()) {
      case NONE:
        return new Decision.Denied(FailureReason.MISSING, "credentials required: send 'Authorization: Bearer <key or "
            + "token>' or 'X-API-Key: <key>'");
      case MALFORMED:
        return new Decision.Denied(FailureReason.MALFORMED, "malformed credentials: expected 'Authorization: "
            + "Bearer <key or token>' or a non-empty 'X-API-Key'");
      case JWT:
        if (jwt == null) {
          return new Decision.Denied(FailureReason.INVALID_TOKEN, "JWT bearer tokens are not accepted by this "
              + "server (no JWKS configured)");
        }
        try {
          return new Decision.Allowed(jwt.current().verify(c.value()));
        } catch (JwtVerifier.InvalidToken e) {
          return new Decision.Denied(FailureReason.INVALID_TOKEN, "invalid token: " + e.getMessage());
        }
      default:
        Principal p = keys == null ? null : keys.current().authenticate(c.value());
        return p != null ? new Decision.Allowed(p)
            : new Decision.Denied(FailureReason.INVALID_KEY, "invalid API key");
    }
  }

  /** Re-reads changed files (the reload schedule calls this). */
  void refresh() {
    if (keys != null) {
      keys.refresh();
    }
    if (jwt != null) {
      jwt.refresh();
    }
  }
}
