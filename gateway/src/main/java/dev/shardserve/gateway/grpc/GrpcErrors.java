package dev.shardserve.gateway.grpc;

import com.google.protobuf.Any;
import com.google.rpc.RetryInfo;
import dev.shardserve.protocol.ErrorCode;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

/**
 * The one place that turns protocol {@link ErrorCode}s into gRPC statuses (the gRPC twin of
 * {@code HttpErrors}), as TF Serving maps its canonical codes: bad input INVALID_ARGUMENT, an
 * unknown model or version NOT_FOUND, overload and not-ready UNAVAILABLE, a late answer
 * DEADLINE_EXCEEDED, a message over the limit RESOURCE_EXHAUSTED. Retriable errors carry a
 * {@code google.rpc.RetryInfo} detail (retry after 1 s), as {@code Retry-After} does over HTTP.
 * Also the {@code tensorflow.error.Code} that TF Serving's status messages hold.
 */
public final class GrpcErrors {
  static final long RETRY_DELAY_SECONDS = 1;

  private GrpcErrors() {}

  public static Status.Code code(ErrorCode code) {
    return switch (code) {
      case INVALID_INPUT, LABEL_NOT_FOUND, SIGNATURE_NOT_FOUND -> Status.Code.INVALID_ARGUMENT;
      case MODEL_NOT_FOUND, VERSION_NOT_FOUND, NOT_FOUND -> Status.Code.NOT_FOUND;
      case OVERLOADED, MODEL_NOT_READY, UNAVAILABLE, MODEL_LOAD_FAILED -> Status.Code.UNAVAILABLE;
      case DEADLINE_EXCEEDED, REQUEST_TIMEOUT -> Status.Code.DEADLINE_EXCEEDED;
      case TOO_LARGE -> Status.Code.RESOURCE_EXHAUSTED;
      case UNAUTHENTICATED -> Status.Code.UNAUTHENTICATED;
      case PERMISSION_DENIED -> Status.Code.PERMISSION_DENIED;
      case METHOD_NOT_ALLOWED, UNSUPPORTED_MEDIA_TYPE -> Status.Code.UNIMPLEMENTED;
      case INTERNAL -> Status.Code.INTERNAL;
    };
  }

  /** The exception a handler ends a call with: status from {@code code}, description {@code message}. */
  public static StatusRuntimeException of(ErrorCode code, String message) {
    com.google.rpc.Status.Builder s = com.google.rpc.Status.newBuilder()
        .setCode(code(code).value())
        .setMessage(message == null ? code.defaultMessage() : message);
    if (code.retriable()) {
      s.addDetails(Any.pack(RetryInfo.newBuilder()
          .setRetryDelay(com.google.protobuf.Duration.newBuilder().setSeconds(RETRY_DELAY_SECONDS))
          .build()));
    }
    return StatusProto.toStatusRuntimeException(s.build());
  }

  public static StatusRuntimeException invalid(String message) {
    return of(ErrorCode.INVALID_INPUT, message);
  }

  /** Whether a call that ended with {@code code} says the model was overloaded (admission backs off). */
  static boolean dropped(ErrorCode code) {
    return code.retriable() || code == ErrorCode.DEADLINE_EXCEEDED;
  }

  /** TF Serving's {@code tensorflow.error.Code} for a version status. */
  static org.tensorflow.proto.error.Code tensorflowCode(ErrorCode code) {
    return switch (code) {
      case MODEL_NOT_FOUND, VERSION_NOT_FOUND, NOT_FOUND -> org.tensorflow.proto.error.Code.NOT_FOUND;
      case INVALID_INPUT, SIGNATURE_NOT_FOUND, LABEL_NOT_FOUND -> org.tensorflow.proto.error.Code.INVALID_ARGUMENT;
      case DEADLINE_EXCEEDED -> org.tensorflow.proto.error.Code.DEADLINE_EXCEEDED;
      case OVERLOADED, MODEL_NOT_READY, UNAVAILABLE -> org.tensorflow.proto.error.Code.UNAVAILABLE;
      case TOO_LARGE -> org.tensorflow.proto.error.Code.RESOURCE_EXHAUSTED;
      case UNAUTHENTICATED -> org.tensorflow.proto.error.Code.UNAUTHENTICATED;
      case PERMISSION_DENIED -> org.tensorflow.proto.error.Code.PERMISSION_DENIED;
      default -> org.tensorflow.proto.error.Code.UNKNOWN;
    };
  }
}
