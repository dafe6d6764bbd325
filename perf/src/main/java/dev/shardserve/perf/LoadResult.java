package dev.shardserve.perf;

import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * What one measured window saw: answers by status, latency histograms (microseconds) for
 * successes and for refusals, measured from the intended send time (for an open loop that falls
 * behind, this includes the wait for a free connection: no coordinated omission), and the
 * refusals' service time (from the moment the request was actually written).
 */
record LoadResult(String name, double seconds, Histogram ok, Histogram refused, Histogram refusedService,
    Map<Integer, Long> byStatus, long ioErrors, long sent) {

  /** Requests actually sent per second (an open loop that falls behind its rate sends fewer). */
  double sentPerSecond() {
    return sent / seconds;
  }

  long count(int status) {
    return byStatus.getOrDefault(status, 0L);
  }

  long total() {
    return byStatus.values().stream().mapToLong(Long::longValue).sum() + ioErrors;
  }

  /** Successful answers per second. */
  double goodput() {
    return count(200) / seconds;
  }

  double ms(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(percentile) / 1000.0;
  }

  String statuses() {
    Map<Integer, Long> s = new TreeMap<>(byStatus);
    return s + (ioErrors > 0 ? " io errors " + ioErrors : "");
  }
}
