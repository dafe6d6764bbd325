package dev.shardserve.gateway.kserve;

import dev.shardserve.protocol.ErrorCode;
import java.util.Objects;

/**
 * A v2 request the gateway refuses, with the protocol error code (mostly {@code INVALID_INPUT})
 * and a message that names the bad value. Thrown by the codec classes of this package, which the
 * REST routes and the gRPC service share; each maps the code to its own status.
 */
public final class V2Exception extends RuntimeException {
  private final ErrorCode code;

  public V2Exception(ErrorCode code, String message) {
    super(message, null, false, false);
    this.code = Objects.requireNonNull(code, "code");
  }

  /** An {@code INVALID_INPUT} refusal. */
  public static V2Exception invalid(String message) {
    return new V2Exception(ErrorCode.INVALID_INPUT, message);
  }

  public ErrorCode code() {
    return code;
  }
}
