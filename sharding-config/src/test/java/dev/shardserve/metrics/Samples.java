package dev.shardserve.metrics;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.util.ArrayList;
import java.util.List;

/** Reads series out of a registry's snapshot, by family name (as exposed, without suffix) and label pairs. */
final class Samples {
  private final List<MetricSnapshot> snapshots = new ArrayList<>();

  Samples(PrometheusRegistry registry) {
    registry.scrape().forEach(snapshots::add);
  }

  /** Only the families whose name passes {@code filter} (a scrape without the JVM's families is cheaper). */
  Samples(PrometheusRegistry registry, java.util.function.Predicate<String> filter) {
    registry.scrape(filter).forEach(snapshots::add);
  }

  /** The data points of the family whose labels include all of {@code labelPairs} (name, value, ...). */
  List<DataPointSnapshot> points(String family, String... labelPairs) {
    List<DataPointSnapshot> out = new ArrayList<>();
    for (MetricSnapshot s : snapshots) {
      if (s.getMetadata().getPrometheusName().equals(family)) {
        for (DataPointSnapshot p : s.getDataPoints()) {
          boolean match = true;
          for (int i = 0; i < labelPairs.length; i += 2) {
            match &= labelPairs[i + 1].equals(p.getLabels().get(labelPairs[i]));
          }
          if (match) {
            out.add(p);
          }
        }
      }
    }
    return out;
  }

  boolean hasFamily(String family) {
    return snapshots.stream().anyMatch(s -> s.getMetadata().getPrometheusName().equals(family));
  }

  /** The value of the one counter or gauge series matching; fails when there is not exactly one. */
  double value(String family, String... labelPairs) {
    DataPointSnapshot p = one(family, labelPairs);
    if (p instanceof CounterSnapshot.CounterDataPointSnapshot c) {
      return c.getValue();
    }
    if (p instanceof GaugeSnapshot.GaugeDataPointSnapshot g) {
      return g.getValue();
    }
    throw new AssertionError(family + " is not a counter or gauge");
  }

  HistogramSnapshot.HistogramDataPointSnapshot histogram(String family, String... labelPairs) {
    return (HistogramSnapshot.HistogramDataPointSnapshot) one(family, labelPairs);
  }

  private DataPointSnapshot one(String family, String... labelPairs) {
    List<DataPointSnapshot> ps = points(family, labelPairs);
    if (ps.size() != 1) {
      throw new AssertionError("expected one series of " + family + " " + List.of(labelPairs) + ", found " + ps.size()
          + ": " + ps.stream().map(p -> p.getLabels().toString()).toList());
    }
    return ps.get(0);
  }
}
