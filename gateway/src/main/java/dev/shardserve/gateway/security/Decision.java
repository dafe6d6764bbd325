package dev.shardserve.gateway.security;

/** The answer of the {@link AccessPolicy}: let the request through, or refuse it saying why. */
public sealed interface Decision {

  /**
   * Let through. {@code principal} is who authenticated, or null where no authentication is
   * configured or the route is open.
   */
  record Allowed(Principal principal) implements Decision {}

  /** Refused: 401 (gRPC UNAUTHENTICATED) or 403 (PERMISSION_DENIED) as {@code reason} says. */
  record Denied(FailureReason reason, String message) implements Decision {
    public boolean unauthenticated() {
      return reason.unauthenticated();
    }
  }

  Allowed OPEN = new Allowed(null);
}
