package dev.shardserve.logging;

import org.slf4j.MDC;

/**
 * Who a request is, for logs: its {@link RequestId} and this process's span of its trace. Made
 * once on arrival from the two headers ({@code X-Request-Id}, {@code traceparent}), carried with
 * the request (to the node as the two strings {@link #requestId()} and {@link #forwardedTraceParent()}),
 * and put in the MDC around the work done for it with {@code try (var scope = context.mdc()) { ... }}.
 */
public record RequestContext(RequestId requestId, TraceParent trace) {
  /** Removes what {@link #mdc()} put; closing twice is harmless. */
  public interface Scope extends AutoCloseable {
    @Override
    void close();
  }

  public RequestContext {
    if (requestId == null || trace == null) {
      throw new IllegalArgumentException("requestId and trace are required, were " + requestId + ", " + trace);
    }
  }

  /**
   * On arrival (HTTP, gRPC metadata, or a node receiving the gateway's two strings): the given
   * request id when valid, else a new one; a child span of the given traceparent when valid,
   * else a new trace.
   */
  public static RequestContext fromHeaders(String requestIdHeader, String traceparentHeader) {
    return new RequestContext(RequestId.fromHeader(requestIdHeader),
        TraceParent.parse(traceparentHeader).map(TraceParent::child).orElseGet(TraceParent::newRoot));
  }

  /** The {@code traceparent} to send on the next hop: this span is the parent there. */
  public String forwardedTraceParent() {
    return trace.header();
  }

  /** Puts request_id, trace_id and span_id in this thread's MDC until the scope closes. */
  public Scope mdc() {
    MDC.put(MdcKeys.REQUEST_ID, requestId.value());
    MDC.put(MdcKeys.TRACE_ID, trace.traceId());
    MDC.put(MdcKeys.SPAN_ID, trace.spanId());
    return () -> {
      MDC.remove(MdcKeys.REQUEST_ID);
      MDC.remove(MdcKeys.TRACE_ID);
      MDC.remove(MdcKeys.SPAN_ID);
    };
  }
}
