package dev.shardserve.gateway.security;

import java.util.Locale;

/**
 * Why a request was refused; the label is the {@code reason} of
 * {@code shardserve_auth_failures_total}, a bounded set.
 */
public enum FailureReason {
  /** No credentials where they are needed: 401. */
  MISSING(true),
  /** An Authorization header that is not {@code Bearer <value>}: 401. */
  MALFORMED(true),
  /** A key that matches no entry of the key file: 401. */
  INVALID_KEY(true),
  /** A JWT that did not verify (signature, issuer, audience, expiry): 401. */
  INVALID_TOKEN(true),
  /** A valid credential without the scope the route needs: 403. */
  SCOPE(false),
  /** A valid credential restricted to other models: 403. */
  MODEL(false);

  private final boolean unauthenticated;

  FailureReason(boolean unauthenticated) {
    this.unauthenticated = unauthenticated;
  }

  /** True for 401 / gRPC UNAUTHENTICATED, false for 403 / PERMISSION_DENIED. */
  public boolean unauthenticated() {
    return unauthenticated;
  }

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
