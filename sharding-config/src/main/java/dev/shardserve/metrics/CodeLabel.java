package dev.shardserve.metrics;

/**
 * The {@code code} label of a request: the HTTP status as a string ({@code "200"}) for the REST
 * protocols, the gRPC status code's name ({@code "OK"}, {@code "UNAVAILABLE"}) for gRPC. The set
 * is bounded: an HTTP status outside 100-599 and a gRPC code outside 0-16 become {@code "other"}.
 */
final class CodeLabel {
  /** gRPC status codes by number (io.grpc.Status.Code; the numbers are fixed by the gRPC spec). */
  private static final String[] GRPC = {
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
      "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};

  static final String OTHER = "other";

  private CodeLabel() {}

  /** The code itself when it has a label of its own, else -1 (all such codes share {@code "other"}). */
  static int bound(Protocol protocol, int code) {
    if (protocol == Protocol.GRPC) {
      return code >= 0 && code < GRPC.length ? code : -1;
    }
    return code >= 100 && code <= 599 ? code : -1;
  }

  static String of(Protocol protocol, int code) {
    if (protocol == Protocol.GRPC) {
      return code >= 0 && code < GRPC.length ? GRPC[code] : OTHER;
    }
    return code >= 100 && code <= 599 ? Integer.toString(code) : OTHER;
  }
}
