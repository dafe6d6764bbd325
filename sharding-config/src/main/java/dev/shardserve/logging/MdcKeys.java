package dev.shardserve.logging;

/**
 * The MDC keys shardserve puts on log lines; with {@code SHARDSERVE_LOG_FORMAT=json} each becomes a
 * field of the line's JSON object. Request keys are set by {@link RequestContext#mdc()} around the
 * work of one request; the others by {@link LifecycleLog} and {@link AccessLog} for one line.
 */
public final class MdcKeys {
  /** The request's id: its {@code X-Request-Id}, or one generated on arrival. */
  public static final String REQUEST_ID = "request_id";
  /** W3C trace id (32 hex digits) of the request's trace. */
  public static final String TRACE_ID = "trace_id";
  /** This process's span id (16 hex digits) in that trace. */
  public static final String SPAN_ID = "span_id";
  /** The kind of a structured line: {@code access}, {@code version_loaded}, {@code node_joined}, ... */
  public static final String EVENT = "event";
  public static final String MODEL = "model";
  public static final String VERSION = "version";

  private MdcKeys() {}
}
