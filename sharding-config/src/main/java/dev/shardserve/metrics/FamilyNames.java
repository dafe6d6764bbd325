package dev.shardserve.metrics;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import java.util.Set;
import java.util.TreeSet;

/**
 * The sample names a registry's families expose in the Prometheus text format, suffixes
 * included: a counter {@code x} is {@code x_total}, a histogram {@code x} is {@code x_bucket},
 * {@code x_count}, {@code x_sum} (and {@code x} itself, for its native form), a summary
 * {@code x}, {@code x_count}, {@code x_sum}, an info {@code x_info}. PromQL in the dashboard and
 * the alert rules may only name these (a test checks it); families without series count too.
 */
public final class FamilyNames {
  private FamilyNames() {}

  public static Set<String> of(MetricSnapshots snapshots) {
    Set<String> names = new TreeSet<>();
    for (MetricSnapshot s : snapshots) {
      String base = s.getMetadata().getPrometheusName();
      if (s instanceof CounterSnapshot) {
        names.add(base + "_total");
      } else if (s instanceof HistogramSnapshot) {
        names.add(base);
        names.add(base + "_bucket");
        names.add(base + "_count");
        names.add(base + "_sum");
      } else if (s instanceof SummarySnapshot) {
        names.add(base);
        names.add(base + "_count");
        names.add(base + "_sum");
      } else if (s instanceof InfoSnapshot) {
        names.add(base + "_info");
      } else {
        names.add(base);
      }
    }
    return names;
  }
}
