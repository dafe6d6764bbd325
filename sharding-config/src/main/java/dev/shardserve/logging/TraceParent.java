package dev.shardserve.logging;

import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A W3C Trace Context {@code traceparent} value ({@code 00-<trace-id>-<span-id>-<flags>}): this
 * process's span in a request's trace. {@link #parse} accepts what the spec's parsing rules
 * accept (lower-case hex, no all-zero ids, version {@code ff} invalid, a higher version may carry
 * more fields after a dash); {@link #child} keeps the trace id and flags with a new span id;
 * {@link #header} always writes version {@code 00}. The gateway makes its span a child of the
 * client's (or starts a trace), and sends {@code header()} with the request to the node, which
 * makes its own child: the trace id joins the log lines of both processes.
 *
 * @param traceId 32 lower-case hex digits, not all zero
 * @param spanId 16 lower-case hex digits, not all zero
 * @param flags trace flags; bit 0 is "sampled"
 */
public record TraceParent(String traceId, String spanId, int flags) {
  public static final String HEADER = "traceparent";
  private static final String ZERO_TRACE = "00000000000000000000000000000000";
  private static final String ZERO_SPAN = "0000000000000000";
  private static final int LENGTH = 55;

  public TraceParent {
    if (traceId == null || traceId.length() != 32 || !Hex.isLowerHex(traceId, 0, 32) || traceId.equals(ZERO_TRACE)) {
      throw new IllegalArgumentException("invalid trace id '" + traceId + "': expected 32 lower-case hex digits, not all zero");
    }
    if (spanId == null || spanId.length() != 16 || !Hex.isLowerHex(spanId, 0, 16) || spanId.equals(ZERO_SPAN)) {
      throw new IllegalArgumentException("invalid span id '" + spanId + "': expected 16 lower-case hex digits, not all zero");
    }
    if (flags < 0 || flags > 0xFF) {
      throw new IllegalArgumentException("invalid trace flags " + flags + ": expected 0-255");
    }
  }

  /** The parsed header, or empty when it is absent or invalid (then the caller starts a new trace). */
  public static Optional<TraceParent> parse(String header) {
    if (header == null) {
      return Optional.empty();
    }
    String h = header.trim();
    if (h.length() < LENGTH || h.charAt(2) != '-' || h.charAt(35) != '-' || h.charAt(52) != '-'
        || !Hex.isLowerHex(h, 0, 2) || !Hex.isLowerHex(h, 53, 55)) {
      return Optional.empty();
    }
    String version = h.substring(0, 2);
    if (version.equals("ff")) {
      return Optional.empty();
    }
    if (version.equals("00") ? h.length() != LENGTH : h.length() > LENGTH && h.charAt(LENGTH) != '-') {
      return Optional.empty();
    }
    String traceId = h.substring(3, 35);
    String spanId = h.substring(36, 52);
    if (!Hex.isLowerHex(traceId, 0, 32) || !Hex.isLowerHex(spanId, 0, 16)
        || traceId.equals(ZERO_TRACE) || spanId.equals(ZERO_SPAN)) {
      return Optional.empty();
    }
    return Optional.of(new TraceParent(traceId, spanId, Integer.parseInt(h.substring(53, 55), 16)));
  }

  /** A new trace (this process is its root), not sampled: shardserve records no spans itself. */
  public static TraceParent newRoot() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long hi = r.nextLong();
    long lo = r.nextLong();
    if (hi == 0 && lo == 0) {
      lo = 1;
    }
    return new TraceParent(Hex.of(hi, 16) + Hex.of(lo, 16), newSpanId(), 0);
  }

  /** A span of this trace whose parent is this span: same trace id and flags, a new span id. */
  public TraceParent child() {
    return new TraceParent(traceId, newSpanId(), flags);
  }

  public boolean sampled() {
    return (flags & 1) != 0;
  }

  /** The header value, version 00. */
  public String header() {
    return "00-" + traceId + "-" + spanId + "-" + Hex.of(flags, 2);
  }

  private static String newSpanId() {
    long id;
    do {
      id = ThreadLocalRandom.current().nextLong();
    } while (id == 0);
    return Hex.of(id, 16);
  }

  @Override
  public String toString() {
    return header();
  }
}
