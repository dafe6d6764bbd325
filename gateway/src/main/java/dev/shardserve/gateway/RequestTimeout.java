package dev.shardserve.gateway;

/**
 * The time budget of one REST inference request, the one rule of the TF Serving and the v2 REST
 * APIs: the {@value #HEADER} header's value (a whole number of milliseconds from 1 to the
 * gateway's {@code max-deadline}; anything else is refused), else the model's
 * {@code request-timeout} (capped at {@code max-deadline}), else the gateway's
 * {@code default-deadline}. Each API turns the refusal into its own bad request, with this
 * message. (The gRPC services take the call's own gRPC deadline instead, clamped to
 * {@code max-deadline} rather than refused, in nanoseconds: {@code grpc.GrpcInference}.)
 */
public final class RequestTimeout {
  /** The request header that sets a request's deadline, in milliseconds. */
  public static final String HEADER = "X-Request-Timeout-Ms";

  private RequestTimeout() {}

  /**
   * The request's time budget in milliseconds.
   *
   * @param header the value of the {@value #HEADER} header, or null when the request has none
   * @param routeTimeoutMillis the model's {@code request-timeout} in milliseconds, 0 or less when
   *     it has none
   * @throws IllegalArgumentException the header's value is not a whole number of milliseconds
   *     from 1 to {@code max-deadline}; the message says so, for the client
   */
  public static long millis(String header, long routeTimeoutMillis, GatewaySettings settings) {
    long max = settings.maxDeadline().toMillis();
    if (header == null) {
      return routeTimeoutMillis > 0 ? Math.min(routeTimeoutMillis, max) : settings.defaultDeadline().toMillis();
    }
    String value = header.trim();
    long ms;
    try {
      ms = Long.parseLong(value);
    } catch (NumberFormatException e) {
      ms = -1;
    }
    if (ms <= 0 || ms > max) {
      throw new IllegalArgumentException(HEADER + " must be a whole number of milliseconds from 1 to " + max
          + ", was '" + value + "'");
    }
    return ms;
  }
}
