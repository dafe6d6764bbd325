package dev.shardserve.perf;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * What one load worker saw in the measured window, kept by that worker alone (no shared counters
 * on the hot path), and merged once the window is over.
 */
final class Tally {
  /** Latency of 200s from the intended send time, microseconds. */
  final Histogram ok = new Histogram(3);
  /** Latency of other statuses from the intended send time. */
  final Histogram refused = new Histogram(3);
  /** Latency of other statuses from the moment the request was written (the server's answer time). */
  final Histogram refusedService = new Histogram(3);
  final Map<Integer, Long> byStatus = new TreeMap<>();
  long ioErrors;
  /** Requests written in the window. */
  long sent;

  /** An answer that arrived in the window ({@code status} -1: an I/O error). */
  void record(int status, long fromIntendedMicros, long fromActualMicros) {
    if (status < 0) {
      ioErrors++;
      return;
    }
    byStatus.merge(status, 1L, Long::sum);
    if (status == 200) {
      ok.recordValue(Math.max(1, fromIntendedMicros));
    } else {
      refused.recordValue(Math.max(1, fromIntendedMicros));
      refusedService.recordValue(Math.max(1, fromActualMicros));
    }
  }

  /** The sum of several workers' tallies: histograms added, counts summed. */
  static Tally merge(List<Tally> parts) {
    Tally all = new Tally();
    for (Tally t : parts) {
      all.ok.add(t.ok);
      all.refused.add(t.refused);
      all.refusedService.add(t.refusedService);
      t.byStatus.forEach((s, n) -> all.byStatus.merge(s, n, Long::sum));
      all.ioErrors += t.ioErrors;
      all.sent += t.sent;
    }
    return all;
  }

  LoadResult toResult(String name, double seconds) {
    return new LoadResult(name, seconds, ok, refused, refusedService, Map.copyOf(byStatus), ioErrors, sent);
  }
}
