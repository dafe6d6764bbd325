package dev.shardserve.perf;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Everything one suite run measured. */
final class Results {
  /** One measured window against one system. {@code clients} is 0 for an open-loop run at {@code rate}. */
  record Point(String system, Workload workload, int clients, double rate, LoadResult load, double cpuSeconds,
      long rssKb) {
    double requestsPerSecond() {
      return load.goodput();
    }

    double rowsPerSecond() {
      return load.goodput() * workload.rows();
    }

    /** Server CPU (all its processes) per successful answer, in the window. */
    double cpuMicrosPerRequest() {
      return cpuSeconds * 1e6 / Math.max(1, load.count(200));
    }

    double ms(double percentile) {
      return load.ms(load.ok(), percentile);
    }
  }

  record CeilingPoint(int batch, double rowsPerSecond, double cpuMicrosPerRow) {}

  /** The in-process TensorFlow ceiling of one model, and what decoding a predict body costs. */
  record Ceiling(String model, double batch1P50Micros, double batch1P99Micros, List<CeilingPoint> points,
      Map<Integer, Double> decodeMicrosPerRow, Map<Integer, Double> fullDecodeMicrosPerRow) {
    CeilingPoint best() {
      return points.stream().max((a, b) -> Double.compare(a.rowsPerSecond(), b.rowsPerSecond())).orElseThrow();
    }
  }

  final Plan plan;
  final List<Point> points = new ArrayList<>();
  final Map<String, Ceiling> ceilings = new LinkedHashMap<>();
  /** System → seconds from process start to its first successful answer. */
  final Map<String, Double> coldStarts = new LinkedHashMap<>();
  /** System → its closed loop at the plan's crowd factor times its saturating client count. */
  final Map<String, Point> crowds = new LinkedHashMap<>();
  /**
   * A fresh start under load: answers per second in one-second windows from the first answer on
   * ({@code at}: seconds since the process started, at each window's end), the steady rate (the
   * median of the last five windows), and when it first reached 90 % of it.
   */
  record RampUp(List<double[]> windows, double steady, double fullSpeedAtSeconds) {}

  /** System → its time-to-full-speed run. */
  final Map<String, RampUp> rampUps = new LinkedHashMap<>();
  /** System → threads its (first) process ran while saturated, by name prefix. */
  final Map<String, Map<String, Integer>> threads = new LinkedHashMap<>();
  /** Systems or runs that could not be measured, with the reason (shown in the report). */
  final List<String> failures = new ArrayList<>();

  Results(Plan plan) {
    this.plan = plan;
  }

  Optional<Point> closed(String system, String model, int rows, int clients) {
    return closed(system, Workload.V1, model, rows, clients);
  }

  Optional<Point> closed(String system, String api, String model, int rows, int clients) {
    return sweep().filter(p -> p.system().equals(system) && p.workload().api().equals(api)
        && p.workload().model().equals(model) && p.workload().rows() == rows && p.clients() == clients).findFirst();
  }

  /** As {@link #closed(String, String, String, int, int)} whatever the api (a system that runs one). */
  Optional<Point> closedAnyApi(String system, String model, int rows, int clients) {
    return sweep().filter(p -> p.system().equals(system) && p.workload().model().equals(model)
        && p.workload().rows() == rows && p.clients() == clients).findFirst();
  }

  /** As {@link #saturated(String, String, String, int)} whatever the api (a system that runs one). */
  Optional<Point> saturatedAnyApi(String system, String model, int rows) {
    return sweep().filter(p -> p.system().equals(system) && p.workload().model().equals(model)
            && p.workload().rows() == rows)
        .max((a, b) -> Double.compare(a.requestsPerSecond(), b.requestsPerSecond()));
  }

  /** The closed-loop runs of the sweeps (not the crowd runs). */
  private java.util.stream.Stream<Point> sweep() {
    return points.stream().filter(p -> p.clients() > 0 && !crowds.containsValue(p));
  }

  /** The best closed-loop throughput of a system on a workload: its saturation. */
  Optional<Point> saturated(String system, String model, int rows) {
    return saturated(system, Workload.V1, model, rows);
  }

  Optional<Point> saturated(String system, String api, String model, int rows) {
    return sweep().filter(p -> p.system().equals(system) && p.workload().api().equals(api)
            && p.workload().model().equals(model) && p.workload().rows() == rows)
        .max((a, b) -> Double.compare(a.requestsPerSecond(), b.requestsPerSecond()));
  }

  /**
   * The fewest clients at which a system reaches 90 % of its best throughput on a workload (the
   * saturating client count), if measured.
   */
  Optional<Point> saturating(String system, String model, int rows) {
    Optional<Point> best = saturated(system, model, rows);
    return best.flatMap(b -> sweep().filter(p -> p.system().equals(system) && p.workload().api().equals(Workload.V1)
            && p.workload().model().equals(model) && p.workload().rows() == rows && p.requestsPerSecond() >= 0.9 * b.requestsPerSecond())
        .min((a, c) -> Integer.compare(a.clients(), c.clients())));
  }

  List<Point> overloads() {
    return points.stream().filter(p -> p.clients() == 0).toList();
  }

  List<String> systems() {
    return points.stream().map(Point::system).distinct().toList();
  }
}
