package dev.shardserve.protocol;

/**
 * The closed set of errors a model replica or the gateway can answer with. Each has a stable wire
 * number (never the ordinal), a default message, and whether trying another replica can succeed
 * (inference is idempotent). An unknown number decodes to {@link #INTERNAL}.
 */
public enum ErrorCode {
  INTERNAL(1, false, "internal error"),
  MODEL_NOT_FOUND(2, false, "Servable not found"),
  VERSION_NOT_FOUND(3, false, "Servable not found"),
  LABEL_NOT_FOUND(4, false, "Unrecognized servable version label"),
  SIGNATURE_NOT_FOUND(5, false, "signature not found"),
  INVALID_INPUT(6, false, "invalid input"),
  OVERLOADED(7, true, "model replica overloaded"),
  MODEL_NOT_READY(8, true, "model is not ready"),
  DEADLINE_EXCEEDED(9, false, "deadline exceeded"),
  /** The replica did not answer (node gone, shard moving): another replica may. */
  UNAVAILABLE(10, true, "model replica unavailable"),
  MODEL_LOAD_FAILED(11, false, "model failed to load"),
  /** A request or an answer over a size limit (HTTP 413, gRPC RESOURCE_EXHAUSTED). */
  TOO_LARGE(12, false, "too large"),
  /** No credentials, or credentials that are not valid (HTTP 401, gRPC UNAUTHENTICATED). */
  UNAUTHENTICATED(13, false, "unauthenticated"),
  /** Valid credentials without the scope or model the call needs (HTTP 403, gRPC PERMISSION_DENIED). */
  PERMISSION_DENIED(14, false, "permission denied"),
  /** A path or an object that is not a model (a route, a node address): HTTP 404. */
  NOT_FOUND(15, false, "not found"),
  /** A known path with a method it does not take: HTTP 405. */
  METHOD_NOT_ALLOWED(16, false, "method not allowed"),
  /** A body in a media type the route refuses: HTTP 415. */
  UNSUPPORTED_MEDIA_TYPE(17, false, "unsupported media type"),
  /** The request body did not arrive in time: HTTP 408. */
  REQUEST_TIMEOUT(18, false, "request body did not arrive in time");

  private static final ErrorCode[] BY_WIRE = new ErrorCode[64];

  static {
    for (ErrorCode c : values()) {
      BY_WIRE[c.wire] = c;
    }
  }

  private final int wire;
  private final boolean retriable;
  private final String defaultMessage;

  ErrorCode(int wire, boolean retriable, String defaultMessage) {
    this.wire = wire;
    this.retriable = retriable;
    this.defaultMessage = defaultMessage;
  }

  public int wire() {
    return wire;
  }

  /** True when the same request may succeed on another replica or a little later. */
  public boolean retriable() {
    return retriable;
  }

  public String defaultMessage() {
    return defaultMessage;
  }

  public static ErrorCode fromWire(int wire) {
    ErrorCode c = wire > 0 && wire < BY_WIRE.length ? BY_WIRE[wire] : null;
    return c == null ? INTERNAL : c;
  }
}
