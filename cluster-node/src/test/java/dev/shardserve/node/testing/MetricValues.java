package dev.shardserve.node.testing;

import dev.shardserve.metrics.ShardServeMetrics;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;

/** Reads one model's series from a process's metrics, for tests that count batches and refusals. */
public final class MetricValues {
  private MetricValues() {}

  /** Batches the model has run ({@code shardserve_batch_size}'s count). */
  public static long batches(ShardServeMetrics metrics, String model) {
    HistogramSnapshot.HistogramDataPointSnapshot h =
        (HistogramSnapshot.HistogramDataPointSnapshot) point(metrics, "shardserve_batch_size", "model", model);
    return h == null ? 0 : h.getCount();
  }

  /** Requests a runtime thread has taken from the model's queue ({@code shardserve_queue_duration_seconds}' count). */
  public static long queueWaits(ShardServeMetrics metrics, String model) {
    HistogramSnapshot.HistogramDataPointSnapshot h = (HistogramSnapshot.HistogramDataPointSnapshot) point(metrics,
        "shardserve_queue_duration_seconds", "model", model);
    return h == null ? 0 : h.getCount();
  }

  /** Requests refused for {@code reason} ({@code shardserve_refused_total}). */
  public static long refused(ShardServeMetrics metrics, String model, String reason) {
    CounterSnapshot.CounterDataPointSnapshot c = (CounterSnapshot.CounterDataPointSnapshot) point(metrics,
        "shardserve_refused", "model", model, "reason", reason);
    return c == null ? 0 : (long) c.getValue();
  }

  private static DataPointSnapshot point(ShardServeMetrics metrics, String family, String... labels) {
    for (MetricSnapshot s : metrics.registry().scrape(n -> n.startsWith(family))) {
      if (!s.getMetadata().getPrometheusName().equals(family)) {
        continue;
      }
      for (DataPointSnapshot p : s.getDataPoints()) {
        boolean match = true;
        for (int i = 0; i < labels.length; i += 2) {
          match &= labels[i + 1].equals(p.getLabels().get(labels[i]));
        }
        if (match) {
          return p;
        }
      }
    }
    return null;
  }
}
