package dev.shardserve.gateway.security;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts refused requests by {@link FailureReason} (exported as
 * {@code shardserve_auth_failures_total{reason}}) and logs them: reason, where, and which key
 * name when known, never the key or token. At most one line per second; the lines skipped in
 * between are counted in the next one, so a flood of bad requests cannot flood the log.
 */
public final class AuthFailures {
  private static final Logger log = LoggerFactory.getLogger(AuthFailures.class);
  private static final long LOG_EVERY_NANOS = 1_000_000_000L;

  private final Map<FailureReason, LongAdder> counts = new EnumMap<>(FailureReason.class);
  private final LongSupplier nanoTime;
  private final AtomicLong lastLogNanos;
  private final LongAdder skipped = new LongAdder();

  public AuthFailures(LongSupplier nanoTime) {
    for (FailureReason r : FailureReason.values()) {
      counts.put(r, new LongAdder());
    }
    this.nanoTime = nanoTime;
    this.lastLogNanos = new AtomicLong(nanoTime.getAsLong() - LOG_EVERY_NANOS);
  }

  /** Failures counted so far for {@code reason}. */
  public long count(FailureReason reason) {
    return counts.get(reason).sum();
  }

  /** Every reason's count, for the metrics exporter. */
  public Map<FailureReason, Long> snapshot() {
    Map<FailureReason, Long> out = new EnumMap<>(FailureReason.class);
    counts.forEach((r, c) -> out.put(r, c.sum()));
    return out;
  }

  void record(Decision.Denied denied, String where) {
    counts.get(denied.reason()).increment();
    long now = nanoTime.getAsLong();
    long last = lastLogNanos.get();
    if (now - last >= LOG_EVERY_NANOS && lastLogNanos.compareAndSet(last, now)) {
      long more = skipped.sumThenReset();
      log.warn("refused {}: {} ({}){}", where, denied.reason().label(), denied.message(),
          more > 0 ? " [" + more + " more refusals since the last line]" : "");
    } else {
      skipped.increment();
    }
  }
}
