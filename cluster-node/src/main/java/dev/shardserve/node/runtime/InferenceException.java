package dev.shardserve.node.runtime;

import dev.shardserve.protocol.ErrorCode;

/** A failed run or load, with the protocol error code the caller should answer with. */
public final class InferenceException extends RuntimeException {
  private final ErrorCode code;

  public InferenceException(ErrorCode code, String message) {
    super(message);
    this.code = code;
  }

  public InferenceException(ErrorCode code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }
}
