package dev.shardserve.perf;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The report's PNG plots (XChart, headless): throughput vs clients, and latency vs throughput, per workload. */
final class Plots {
  private Plots() {}

  /** Writes the plots for {@code w}; returns the file names written (relative to {@code dir}). */
  static List<String> write(Results results, Workload w, Path dir) throws IOException {
    String base = w.model() + (w.api().equals(Workload.V1) ? "" : "-" + w.api().replace(' ', '-'))
        + (w.rows() == 1 ? "" : "-" + w.rows() + "rows");
    List<String> files = new ArrayList<>();

    XYChart throughput = chart("Throughput vs concurrency: " + w.label(), "concurrent clients", "answers per second");
    throughput.getStyler().setXAxisLogarithmic(true);
    XYChart latency = chart("Latency vs throughput: " + w.label(), "answers per second", "latency (ms)");
    latency.getStyler().setYAxisLogarithmic(true);
    for (String system : results.systems()) {
      List<Results.Point> pts = results.points.stream()
          .filter(p -> p.system().equals(system) && p.workload().api().equals(w.api())
              && p.workload().model().equals(w.model()) && p.workload().rows() == w.rows() && p.clients() > 0
              && p.load().count(200) > 0)
          .sorted(Comparator.comparingInt(Results.Point::clients)).toList();
      if (pts.isEmpty()) {
        continue;
      }
      throughput.addSeries(system, pts.stream().mapToDouble(Results.Point::clients).toArray(),
          pts.stream().mapToDouble(Results.Point::requestsPerSecond).toArray());
      double[] x = pts.stream().mapToDouble(Results.Point::requestsPerSecond).toArray();
      latency.addSeries(system + " p50", x, pts.stream().mapToDouble(p -> p.ms(50)).toArray());
      latency.addSeries(system + " p99", x, pts.stream().mapToDouble(p -> p.ms(99)).toArray())
          .setMarker(SeriesMarkers.DIAMOND);
    }
    if (throughput.getSeriesMap().isEmpty()) {
      return files;
    }
    BitmapEncoder.saveBitmap(throughput, dir.resolve("throughput-" + base).toString(), BitmapEncoder.BitmapFormat.PNG);
    files.add("throughput-" + base + ".png");
    BitmapEncoder.saveBitmap(latency, dir.resolve("latency-" + base).toString(), BitmapEncoder.BitmapFormat.PNG);
    files.add("latency-" + base + ".png");
    return files;
  }

  private static XYChart chart(String title, String x, String y) {
    XYChart c = new XYChartBuilder().width(900).height(540).title(title).xAxisTitle(x).yAxisTitle(y).build();
    c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
    c.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
    c.getStyler().setMarkerSize(7);
    return c;
  }
}
