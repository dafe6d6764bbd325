package dev.shardserve.perf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** The Markdown report of a suite run: machine, settings, the README's ratios, tables, plots. */
final class Report {
  /** One ratio of the README: what it compares, its value (NaN when not measured), its goal. */
  record Ratio(String name, String scenario, double value, String unit, String goal, Boolean met, String detail) {}

  private final Results r;

  Report(Results results) {
    this.r = results;
  }

  static String f(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }

  private Optional<Results.Point> at(String system, String model, int rows, int clients) {
    return r.closed(system, model, rows, clients);
  }

  /** The ratios the README quotes, computed from this run only. */
  List<Ratio> ratios() {
    List<Ratio> out = new ArrayList<>();
    int c = r.plan.ratioClients();
    String mlp = Suite.MLP;
    Optional<Results.Point> ss = at(Suite.STANDALONE, mlp, 1, c);
    Optional<Results.Point> naive = at(Suite.NAIVE, mlp, 1, c);
    Optional<Results.Point> naiveDefault = at(Suite.NAIVE_DEFAULT, mlp, 1, c);
    String scen = "MLP, 1 row per request, " + c + " clients";
    out.add(ratio("batching gain", "standalone ÷ naive server, " + scen, ss, naive, 3.0, "≥ 3×"));
    if (naiveDefault.isPresent()) {
      out.add(ratio("batching gain (naive with TF default threads)", "standalone ÷ naive server with TensorFlow's "
          + "default session settings, " + scen, ss, naiveDefault, Double.NaN, "(reported)"));
    }

    Optional<Results.Point> constant = at(Suite.CONSTANT, mlp, 1, c);
    Results.Ceiling mlpCeiling = r.ceilings.get(mlp);
    if (ss.isPresent() && constant.isPresent() && mlpCeiling != null) {
      double ceilingCpu = mlpCeiling.best().cpuMicrosPerRow();
      double overhead = ss.get().cpuMicrosPerRequest() - constant.get().cpuMicrosPerRequest() - ceilingCpu;
      out.add(new Ratio("overhead", "server CPU per request, " + scen + " (784-float JSON body)", overhead, "µs",
          "≤ 25 µs", overhead <= 25, f("%.1f (standalone) − %.1f (bare Akka HTTP route, same body) − %.1f "
              + "(TensorFlow per row at batch %d, in-process)", ss.get().cpuMicrosPerRequest(),
              constant.get().cpuMicrosPerRequest(), ceilingCpu, mlpCeiling.best().batch())));
    } else {
      out.add(missing("overhead", scen));
    }
    Optional<Results.Point> one = at(Suite.STANDALONE, mlp, 1, 1);
    if (one.isPresent() && mlpCeiling != null) {
      double added = one.get().ms(50) - mlpCeiling.batch1P50Micros() / 1000;
      out.add(new Ratio("added latency", "p50 at 1 client over the in-process batch-1 call, MLP", added, "ms",
          "≤ 1 ms", added <= 1, f("%.3f ms (standalone p50) − %.3f ms (TensorFlow call p50)", one.get().ms(50),
              mlpCeiling.batch1P50Micros() / 1000)));
    } else {
      out.add(missing("added latency", "MLP, 1 client"));
    }

    Optional<Results.Point> wide = r.saturated(Suite.STANDALONE, mlp, 32);
    if (wide.isPresent() && mlpCeiling != null) {
      double eff = wide.get().rowsPerSecond() / mlpCeiling.best().rowsPerSecond();
      out.add(new Ratio("efficiency", "standalone ÷ in-process ceiling, rows per second, MLP, 32 rows per request, "
          + "at saturation (" + wide.get().clients() + " clients)", eff, "×", "(reported)", null,
          f("%.0f ÷ %.0f rows/s. %s", wide.get().rowsPerSecond(), mlpCeiling.best().rowsPerSecond(),
              jsonShare(wide.get(), mlpCeiling))));
    } else {
      out.add(missing("efficiency", "MLP, 32 rows per request"));
    }

    out.add(ratio("HTTP ceiling", "standalone ÷ bare Akka HTTP route answering a constant, half_plus_two, 1 row, "
        + c + " clients", at(Suite.STANDALONE, Suite.HALF_PLUS_TWO, 1, c), at(Suite.CONSTANT, Suite.HALF_PLUS_TWO, 1,
        c), 0.5, "≥ 0.5"));
    Optional<Results.Point> cluster = at(Suite.CLUSTER, mlp, 1, c);
    Ratio hop = ratio("the hop", "gateway + 2 worker nodes (3 JVMs) ÷ standalone, " + scen, cluster, ss, 0.8, "≥ 0.8");
    if (cluster.isPresent() && ss.isPresent()) {
      hop = new Ratio(hop.name(), hop.scenario(), hop.value(), hop.unit(), hop.goal(), hop.met(), hop.detail()
          + f("; server CPU per request %.0f µs (3 JVMs) vs %.0f µs (standalone)", cluster.get().cpuMicrosPerRequest(),
          ss.get().cpuMicrosPerRequest()));
    }
    out.add(hop);

    Optional<Results.Point> ssOne = at(Suite.STANDALONE, mlp, 1, 1);
    Optional<Results.Point> naiveOne = at(Suite.NAIVE, mlp, 1, 1);
    Ratio oneClient = ratio("1 client", "standalone ÷ naive server, requests/s, MLP, 1 row, 1 client (and p50 no "
        + "higher)", ssOne, naiveOne, 1.0, "≥ 1.0× and p50 ≤ naive");
    if (ssOne.isPresent() && naiveOne.isPresent()) {
      boolean p50 = ssOne.get().ms(50) <= naiveOne.get().ms(50);
      oneClient = new Ratio(oneClient.name(), oneClient.scenario(), oneClient.value(), oneClient.unit(),
          oneClient.goal(), oneClient.met() && p50, oneClient.detail() + f("; p50 %.3f vs %.3f ms; CPU per answer "
              + "%.0f vs %.0f µs", ssOne.get().ms(50), naiveOne.get().ms(50), ssOne.get().cpuMicrosPerRequest(),
              naiveOne.get().cpuMicrosPerRequest()));
    }
    out.add(oneClient);

    Optional<Results.Point> ssWide = r.saturated(Suite.STANDALONE, mlp, 32);
    Optional<Results.Point> naiveWide = r.saturated(Suite.NAIVE, mlp, 32);
    if (ssWide.isPresent() && naiveWide.isPresent() && naiveWide.get().rowsPerSecond() > 0) {
      double v = ssWide.get().rowsPerSecond() / naiveWide.get().rowsPerSecond();
      out.add(new Ratio("32 rows per request", "standalone ÷ naive server, rows/s at saturation, MLP, 32 rows per "
          + "request", v, "×", "≥ 1.5×", v >= 1.5, f("%.0f ÷ %.0f rows/s (%d and %d clients); p99 %.1f vs %.1f ms",
          ssWide.get().rowsPerSecond(), naiveWide.get().rowsPerSecond(), ssWide.get().clients(),
          naiveWide.get().clients(), ssWide.get().ms(99), naiveWide.get().ms(99))));
    } else {
      out.add(missing("32 rows per request", "MLP, 32 rows per request, standalone and naive server"));
    }

    out.addAll(grpcRatios(r, mlp));

    Results.Point crowd = r.crowds.get(Suite.STANDALONE);
    Optional<Results.Point> sat = r.saturated(Suite.STANDALONE, mlp, 1);
    if (crowd != null && sat.isPresent()) {
      double v = crowd.requestsPerSecond() / sat.get().requestsPerSecond();
      LoadResult lr = crowd.load();
      double refusalService = lr.refused().getTotalCount() == 0 ? 0 : lr.ms(lr.refusedService(), 99);
      out.add(new Ratio("goodput under a crowd", f("standalone, MLP, 1 row, closed loop of %d clients (%d× the %d "
          + "that saturate it) ÷ saturated", crowd.clients(), r.plan.crowdFactor(), crowd.clients()
          / r.plan.crowdFactor()), v, "×", "≥ 0.9; refusals ≤ 5 ms p99", v >= 0.9 && refusalService <= 5,
          f("%.0f ÷ %.0f answers/s; %d refusals, p99 service time %.2f ms", crowd.requestsPerSecond(),
              sat.get().requestsPerSecond(), lr.refused().getTotalCount(), refusalService)));
    } else {
      out.add(missing("goodput under a crowd", "standalone, MLP, closed loop at " + r.plan.crowdFactor()
          + "× the saturating clients"));
    }

    for (double factor : r.plan.overloadFactors()) {
      Optional<Results.Point> open = openLoop(Suite.STANDALONE, mlp, 1, factor);
      String name = f("goodput at %.0f× (open loop)", factor);
      if (open.isPresent() && sat.isPresent()) {
        double v = open.get().requestsPerSecond() / sat.get().requestsPerSecond();
        boolean goal = factor == 2.0;
        LoadResult lr = open.get().load();
        out.add(new Ratio(name, f("standalone, MLP, 1 row, open loop at %.0f× the saturated rate ÷ saturated", factor),
            v, "×", goal ? "≥ 0.8" : "(reported)", goal ? v >= 0.8 : null, f("%.0f ÷ %.0f answers/s; asked %.0f/s, "
                + "sent %.0f/s; refusals p99 service time %s ms", open.get().requestsPerSecond(),
                sat.get().requestsPerSecond(), open.get().rate(), lr.sentPerSecond(),
                lr.refused().getTotalCount() == 0 ? "-" : f("%.2f", lr.ms(lr.refusedService(), 99)))));
      } else {
        out.add(missing(name, "standalone, MLP, open loop"));
      }
    }

    for (String system : List.of(Suite.STANDALONE, Suite.CLUSTER)) {
      Results.RampUp ramp = r.rampUps.get(system);
      if (ramp != null) {
        out.add(new Ratio("time to full speed (" + (system.equals(Suite.STANDALONE) ? "standalone" : "cluster") + ")",
            system + ", MLP, 1 row, 64 clients from a fresh start: seconds from the process's start to 90 % of its "
                + "steady rate", ramp.fullSpeedAtSeconds(), "s", "≤ 15 s", ramp.fullSpeedAtSeconds() <= 15,
            f("steady %.0f answers/s (median of the last 5 one-second windows); cold start %.1f s",
                ramp.steady(), ramp.windows().isEmpty() ? Double.NaN : ramp.windows().get(0)[0] - 1)));
      }
    }
    v2Ratios(out, c, mlpCeiling);

    if (mlpCeiling != null && !mlpCeiling.decodeMicrosPerRow().isEmpty()) {
      Map.Entry<Integer, Double> decode = mlpCeiling.decodeMicrosPerRow().entrySet().iterator().next();
      Double full = mlpCeiling.fullDecodeMicrosPerRow().get(decode.getKey());
      out.add(new Ratio("decoder", "one 784-float row printed with 4 decimals, the gateway's fast path into "
          + "FLOAT32, in-process (JMH: `bench jmh -- DecoderBench`)", decode.getValue(), "µs", "≤ 10 µs",
          decode.getValue() <= 10, f("%.1f µs per row on a %d-row body%s", decode.getValue(), decode.getKey(),
              full == null ? "" : f("; the full decoder %.1f µs per row", full))));
    } else {
      out.add(missing("decoder", "MLP body"));
    }
    return out;
  }

  /**
   * The Open Inference Protocol's ratios: server CPU per row with 32 binary rows per request
   * against TensorFlow's own at batch 32 (goal <= 1.25x), v2 JSON's CPU per request against v1
   * JSON's on the same numbers (goal within 10 %), and 1-row latency at one client.
   */
  private void v2Ratios(List<Ratio> out, int c, Results.Ceiling ceiling) {
    String mlp = Suite.MLP;
    Optional<Results.Point> wideBinary = r.saturated(Suite.STANDALONE, Workload.V2_BINARY, mlp, 32);
    Optional<Results.CeilingPoint> at32 = ceiling == null ? Optional.empty()
        : ceiling.points().stream().filter(q -> q.batch() == 32).findFirst();
    if (wideBinary.isPresent() && at32.isPresent()) {
      double cpuPerRow = wideBinary.get().cpuMicrosPerRequest() / 32;
      double v = cpuPerRow / at32.get().cpuMicrosPerRow();
      out.add(new Ratio("v2 binary cost", "server CPU per row, v2 binary, MLP, 32 rows per request, at saturation ("
          + wideBinary.get().clients() + " clients) ÷ TensorFlow's CPU per row at batch 32, in-process", v, "×",
          "≤ 1.25×", v <= 1.25, f("%.1f ÷ %.1f µs per row; %.0f rows/s (v1 JSON at 32 rows: %s)", cpuPerRow,
              at32.get().cpuMicrosPerRow(), wideBinary.get().rowsPerSecond(),
              r.saturated(Suite.STANDALONE, mlp, 32).map(p -> f("%.1f µs per row, %.0f rows/s",
                  p.cpuMicrosPerRequest() / 32, p.rowsPerSecond())).orElse("not measured"))));
    } else {
      out.add(missing("v2 binary cost", "MLP, 32 rows per request in v2 binary, and the ceiling at batch 32"));
    }
    Optional<Results.Point> v1 = r.closed(Suite.STANDALONE, Workload.V1, mlp, 1, c);
    Optional<Results.Point> v2 = r.closed(Suite.STANDALONE, Workload.V2_JSON, mlp, 1, c);
    if (v1.isPresent() && v2.isPresent()) {
      double v = v2.get().cpuMicrosPerRequest() / v1.get().cpuMicrosPerRequest();
      Optional<Results.Point> v2Wide = r.saturated(Suite.STANDALONE, Workload.V2_JSON, mlp, 32);
      Optional<Results.Point> v1Wide = r.saturated(Suite.STANDALONE, mlp, 32);
      out.add(new Ratio("v2 JSON cost", "server CPU per request, v2 JSON ÷ v1 JSON, MLP, 1 row, " + c
          + " clients, same numbers", v, "×", "0.9–1.1×", Math.abs(v - 1) <= 0.10, f("%.1f ÷ %.1f µs per request; "
              + "%.0f vs %.0f answers/s%s", v2.get().cpuMicrosPerRequest(), v1.get().cpuMicrosPerRequest(),
              v2.get().requestsPerSecond(), v1.get().requestsPerSecond(), v2Wide.isPresent() && v1Wide.isPresent()
                  ? f("; at 32 rows %.1f vs %.1f µs per row", v2Wide.get().cpuMicrosPerRequest() / 32,
                      v1Wide.get().cpuMicrosPerRequest() / 32) : "")));
    } else {
      out.add(missing("v2 JSON cost", "MLP, 1 row, v1 and v2 JSON at " + c + " clients"));
    }
    Optional<Results.Point> json1 = r.closed(Suite.STANDALONE, Workload.V2_JSON, mlp, 1, 1);
    Optional<Results.Point> binary1 = r.closed(Suite.STANDALONE, Workload.V2_BINARY, mlp, 1, 1);
    Optional<Results.Point> v1One = r.closed(Suite.STANDALONE, Workload.V1, mlp, 1, 1);
    if (json1.isPresent() && binary1.isPresent()) {
      out.add(new Ratio("v2 latency", "p50 at 1 client, MLP, 1 row: v2 JSON and v2 binary (v1 JSON for scale)",
          json1.get().ms(50), "ms", "(reported)", null, f("v2 JSON p50 %.3f ms, p99 %.3f ms; v2 binary p50 %.3f ms, "
              + "p99 %.3f ms; v1 JSON p50 %s ms", json1.get().ms(50), json1.get().ms(99), binary1.get().ms(50),
              binary1.get().ms(99), v1One.map(p -> f("%.3f", p.ms(50))).orElse("-"))));
    } else {
      out.add(missing("v2 latency", "MLP, 1 row, 1 client, v2 JSON and binary"));
    }
  }

  /** The open-loop run of {@code system} at {@code factor} × its saturated rate (within 1 %). */
  private Optional<Results.Point> openLoop(String system, String model, int rows, double factor) {
    Optional<Results.Point> sat = r.saturated(system, model, rows);
    return sat.flatMap(s -> r.overloads().stream().filter(p -> p.system().equals(system)
        && p.workload().model().equals(model) && p.workload().rows() == rows
        && Math.abs(p.rate() / s.requestsPerSecond() - factor) < 0.01 * factor).findFirst());
  }

  /** How much of the gap to the ceiling decoding JSON explains, from the decoder's measured cost per row. */
  static String jsonShare(Results.Point wide, Results.Ceiling ceiling) {
    Double decode = ceiling.decodeMicrosPerRow().get(wide.workload().rows());
    if (decode == null) {
      return "JSON decoding not measured.";
    }
    double cpuPerRow = wide.cpuMicrosPerRequest() / wide.workload().rows();
    double withoutJson = cpuPerRow > decode ? wide.rowsPerSecond() * cpuPerRow / (cpuPerRow - decode) : Double.NaN;
    double gap = ceiling.best().rowsPerSecond() - wide.rowsPerSecond();
    return f("Decoding the JSON body costs %.1f µs per row (shardserve's decoder, one thread), %.0f%% of the "
            + "server's %.1f µs of CPU per row; without it the same CPU would serve about %.0f rows/s, %.0f%% of "
            + "the gap to the ceiling.", decode, 100 * decode / cpuPerRow, cpuPerRow, withoutJson,
        gap > 0 ? 100 * (withoutJson - wide.rowsPerSecond()) / gap : Double.NaN);
  }

  /**
   * The gRPC goals: at 32 rows, server CPU per row <= 1.25x TensorFlow's own CPU per row at batch
   * 32 (the in-process ceiling); at 1 row, server CPU per request <= the REST JSON path's.
   */
  static List<Ratio> grpcRatios(Results r, String mlp) {
    List<Ratio> out = new ArrayList<>();
    Results.Ceiling ceiling = r.ceilings.get(mlp);
    Optional<Results.CeilingPoint> tf32 = ceiling == null ? Optional.empty()
        : ceiling.points().stream().filter(p -> p.batch() == 32).findFirst();
    int c = r.plan.ratioClients();
    Optional<Results.Point> rest = r.closed(Suite.STANDALONE, mlp, 1, c);
    for (String system : List.of(Suite.GRPC_PREDICT, Suite.GRPC_PREDICT_CONTENT, Suite.GRPC_INFER)) {
      // each gRPC system runs one api ("gRPC PREDICT_TENSOR_CONTENT", ...), never v1
      Optional<Results.Point> wide = r.saturatedAnyApi(system, mlp, 32);
      if (wide.isPresent() && tf32.isPresent() && wide.get().load().count(200) > 0) {
        double v = wide.get().cpuMicrosPerRequest() / 32 / tf32.get().cpuMicrosPerRow();
        out.add(new Ratio("gRPC CPU per row, 32 rows", system + " ÷ TensorFlow in-process at batch 32, CPU µs per row, "
            + "MLP", v, "×", "≤ 1.25×", v <= 1.25, f("%.1f ÷ %.1f µs/row (%d clients, %.0f rows/s)",
            wide.get().cpuMicrosPerRequest() / 32, tf32.get().cpuMicrosPerRow(), wide.get().clients(),
            wide.get().rowsPerSecond())));
      } else {
        out.add(missing("gRPC CPU per row, 32 rows", system + ", MLP, 32 rows, and the ceiling at batch 32"));
      }
      Optional<Results.Point> one = r.closedAnyApi(system, mlp, 1, c);
      if (one.isPresent() && rest.isPresent() && one.get().load().count(200) > 0 && rest.get().load().count(200) > 0) {
        double v = one.get().cpuMicrosPerRequest() / rest.get().cpuMicrosPerRequest();
        out.add(new Ratio("gRPC CPU per request, 1 row", system + " ÷ REST JSON, server CPU µs per answer, MLP, 1 row, "
            + c + " clients", v, "×", "≤ 1×", v <= 1.0, f("%.0f ÷ %.0f µs (%.0f vs %.0f answers/s)",
            one.get().cpuMicrosPerRequest(), rest.get().cpuMicrosPerRequest(), one.get().requestsPerSecond(),
            rest.get().requestsPerSecond())));
      } else {
        out.add(missing("gRPC CPU per request, 1 row", system + " and REST, MLP, 1 row, " + c + " clients"));
      }
    }
    return out;
  }

  private static Ratio ratio(String name, String scenario, Optional<Results.Point> a, Optional<Results.Point> b,
      double goal, String goalText) {
    if (a.isEmpty() || b.isEmpty() || b.get().requestsPerSecond() == 0) {
      return missing(name, scenario);
    }
    double v = a.get().requestsPerSecond() / b.get().requestsPerSecond();
    return new Ratio(name, scenario, v, "×", goalText, Double.isNaN(goal) ? null : v >= goal,
        f("%.0f ÷ %.0f answers/s", a.get().requestsPerSecond(), b.get().requestsPerSecond()));
  }

  private static Ratio missing(String name, String scenario) {
    return new Ratio(name, scenario, Double.NaN, "", "", null, "not measured in this suite (or its run failed)");
  }

  String markdown(Map<String, List<String>> plots, String plotError) {
    List<String> l = new ArrayList<>();
    Plan p = r.plan;
    l.add("# shardserve benchmark report: suite `" + p.name() + "`");
    l.add("");
    l.add("Run " + ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME) + " by `./shardserve bench "
        + "--suite " + p.name() + "`.");
    l.add("");
    l.add("- **Machine**: " + MachineInfo.describe());
    l.add("- **Versions**: " + MachineInfo.versions());
    l.add(f("- **Settings**: each window %.1f s after %.1f s of warm-up; closed-loop clients send one request at a time "
        + "over a keep-alive connection; open loops at %s× the saturated rate over %d connections; a crowd of %d× the "
        + "saturating clients (closed loop). All processes "
        + "on 127.0.0.1, started one system at a time. Heaps: standalone 1 GiB, node 768 MiB, gateway 384 MiB, naive "
        + "server 1 GiB, bare route 512 MiB. TensorFlow on the calling thread (intra-op 1, inter-op -1) for "
        + "shardserve, the naive server and the ceiling; the naive server is also run with TensorFlow's defaults.",
        p.windowSeconds(), p.warmupSeconds(), p.overloadFactors(), p.overloadConnections(), p.crowdFactor()));
    l.add("- **Models**: `half_plus_two` (y = x/2 + 2, overhead-bound) and `mlp` (784-512-512-10, compute-bound), "
        + "written by `example-model` with fixed seeds; bodies are TF Serving's row format, and for the Open "
        + "Inference Protocol runs (MLP, `v2 JSON` and `v2 binary`) the same numbers as Triton's Python client sends "
        + "them (compact JSON with flat data; binary: JSON header with binary_data_size, then little-endian floats, "
        + "Inference-Header-Content-Length, no Content-Type).");
    l.add("");
    l.add("## Ratios");
    l.add("");
    l.add("| ratio | scenario | value | goal | met | how |");
    l.add("|---|---|---|---|---|---|");
    for (Ratio q : ratios()) {
      l.add(f("| %s | %s | %s | %s | %s | %s |", q.name(), q.scenario(),
          Double.isNaN(q.value()) ? "-" : f(q.unit().equals("×") ? "%.2f×" : "%.1f %s", q.value(), q.unit()),
          q.goal(), q.met() == null ? "" : q.met() ? "yes" : "**no**", q.detail()));
    }
    l.add("");
    l.add("Latencies are measured from each request's intended send time; CPU is the server's processes' user + "
        + "system time in the window (from /proc), divided by its successful answers.");

    Map<String, List<Results.Point>> byWorkload = new LinkedHashMap<>();
    for (Results.Point q : r.points) {
      if (q.clients() > 0) {
        byWorkload.computeIfAbsent(q.workload().label(), k -> new ArrayList<>()).add(q);
      }
    }
    for (Map.Entry<String, List<Results.Point>> e : byWorkload.entrySet()) {
      l.add("");
      l.add("## Closed loop: " + e.getKey());
      l.add("");
      l.add("| system | clients | answers/s | rows/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | CPU µs/answer "
          + "| RSS MiB | statuses |");
      l.add("|---|---|---|---|---|---|---|---|---|---|---|---|");
      for (Results.Point q : e.getValue()) {
        l.add(row(q, Integer.toString(q.clients())));
      }
      List<String> files = plots.getOrDefault(e.getKey(), List.of());
      l.add("");
      for (String file : files) {
        l.add("![" + file + "](" + file + ")");
      }
    }
    if (!r.overloads().isEmpty()) {
      l.add("");
      l.add("## Overload: open loops at " + p.overloadFactors() + "× the saturated rate");
      l.add("");
      l.add("| system | workload | asked/s | sent/s | answered 200/s | goodput ÷ saturated | p50 ms | p99 ms | refusals "
          + "p99 ms from intended (service) | RSS MiB | statuses |");
      l.add("|---|---|---|---|---|---|---|---|---|---|---|");
      for (Results.Point q : r.overloads()) {
        double sat = r.saturated(q.system(), q.workload().model(), q.workload().rows())
            .map(Results.Point::requestsPerSecond).orElse(Double.NaN);
        LoadResult lr = q.load();
        l.add(f("| %s | %s | %.0f | %.0f | %.0f | %.0f%% | %.2f | %.2f | %s | %d | %s |", q.system(),
            q.workload().label(), q.rate(), lr.sentPerSecond(), lr.goodput(), 100 * lr.goodput() / sat, q.ms(50),
            q.ms(99), lr.refused().getTotalCount() == 0 ? "-" : f("%.2f (%.2f)", lr.ms(lr.refused(), 99),
                lr.ms(lr.refusedService(), 99)), q.rssKb() / 1024, lr.statuses()));
      }
    }
    if (!r.crowds.isEmpty()) {
      l.add("");
      l.add("## Overload: a crowd of clients (closed loop, " + p.crowdFactor() + "× the saturating count)");
      l.add("");
      l.add("| system | workload | clients | answered 200/s | goodput ÷ saturated | p50 ms | p99 ms | refusals/s | "
          + "refusals p99 service ms | CPU µs/answer | statuses |");
      l.add("|---|---|---|---|---|---|---|---|---|---|---|");
      for (Results.Point q : r.crowds.values()) {
        double sat = r.saturated(q.system(), q.workload().model(), q.workload().rows())
            .map(Results.Point::requestsPerSecond).orElse(Double.NaN);
        LoadResult lr = q.load();
        l.add(f("| %s | %s | %d | %.0f | %.0f%% | %.2f | %.2f | %.0f | %s | %.0f | %s |", q.system(),
            q.workload().label(), q.clients(), lr.goodput(), 100 * lr.goodput() / sat, q.ms(50), q.ms(99),
            lr.refused().getTotalCount() / lr.seconds(), lr.refused().getTotalCount() == 0 ? "-"
                : f("%.2f", lr.ms(lr.refusedService(), 99)), q.cpuMicrosPerRequest(), lr.statuses()));
      }
    }
    if (!r.rampUps.isEmpty()) {
      l.add("");
      l.add("## Time to full speed (answers per second in one-second windows after a fresh start)");
      l.add("");
      r.rampUps.forEach((system, ramp) -> {
        StringBuilder b = new StringBuilder();
        for (double[] w : ramp.windows()) {
          b.append(b.length() == 0 ? "" : ", ").append(f("%.0f s: %.0f", w[0], w[1]));
        }
        l.add(f("- %s: %s", system, b));
      });
    }
    if (!r.threads.isEmpty()) {
      l.add("");
      l.add("## Threads of a running process (while saturated)");
      l.add("");
      r.threads.forEach((system, byName) -> l.add(f("- %s: %d threads: %s", system,
          byName.values().stream().mapToInt(Integer::intValue).sum(), byName)));
    }
    Optional<Results.Point> ssOneCpu = at(Suite.STANDALONE, Suite.MLP, 1, 1);
    Optional<Results.Point> routeOneCpu = at(Suite.CONSTANT, Suite.MLP, 1, 1);
    if (ssOneCpu.isPresent() || routeOneCpu.isPresent()) {
      l.add("");
      l.add("## CPU per answer at 1 client (MLP body)");
      l.add("");
      ssOneCpu.ifPresent(q -> l.add(f("- %s: %.0f µs (p50 %.3f ms)", q.system(), q.cpuMicrosPerRequest(), q.ms(50))));
      routeOneCpu.ifPresent(q -> l.add(f("- %s: %.0f µs (p50 %.3f ms)", q.system(), q.cpuMicrosPerRequest(),
          q.ms(50))));
      at(Suite.NAIVE, Suite.MLP, 1, 1).ifPresent(q -> l.add(f("- %s: %.0f µs (p50 %.3f ms)", q.system(),
          q.cpuMicrosPerRequest(), q.ms(50))));
    }
    if (!r.ceilings.isEmpty()) {
      l.add("");
      l.add("## In-process ceiling (TensorFlow Java, no HTTP, " + Runtime.getRuntime().availableProcessors()
          + " caller threads)");
      l.add("");
      l.add("| model | batch | rows/s | CPU µs/row |");
      l.add("|---|---|---|---|");
      for (Results.Ceiling c : r.ceilings.values()) {
        for (Results.CeilingPoint q : c.points()) {
          l.add(f("| %s | %d | %.0f | %.2f |", c.model(), q.batch(), q.rowsPerSecond(), q.cpuMicrosPerRow()));
        }
      }
      l.add("");
      for (Results.Ceiling c : r.ceilings.values()) {
        l.add(f("- %s: one batch-1 call takes %.0f µs at p50, %.0f µs at p99 (one caller).", c.model(),
            c.batch1P50Micros(), c.batch1P99Micros()));
        c.decodeMicrosPerRow().forEach((rows, micros) -> l.add(f("- %s: shardserve's JSON decoder takes %.2f µs per "
            + "row on a %d-row predict body (the fast path into FLOAT32; the full decoder %.2f µs).", c.model(), micros,
            rows, c.fullDecodeMicrosPerRow().getOrDefault(rows, Double.NaN))));
      }
    }
    if (!r.coldStarts.isEmpty()) {
      l.add("");
      l.add("## Cold start: process start to first successful answer");
      l.add("");
      l.add("| system | seconds |");
      l.add("|---|---|");
      r.coldStarts.forEach((s, secs) -> l.add(f("| %s | %.2f |", s, secs)));
      l.add("");
      l.add("The first answer is an MLP predict (the bare route: a constant); shardserve loads, warms up and "
          + "publishes its models before it answers.");
    }
    if (plotError != null) {
      l.add("");
      l.add("Plots were not drawn: " + plotError);
    }
    if (!r.failures.isEmpty()) {
      l.add("");
      l.add("## Failed");
      l.add("");
      r.failures.forEach(s -> l.add("- " + s));
    }
    return String.join("\n", l) + "\n";
  }

  private static String row(Results.Point q, String clients) {
    LoadResult lr = q.load();
    return f("| %s | %s | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f | %d | %s |", q.system(), clients,
        q.requestsPerSecond(), q.rowsPerSecond(), q.ms(50), q.ms(90), q.ms(99), q.ms(99.9),
        lr.ok().getTotalCount() == 0 ? Double.NaN : lr.ok().getMaxValue() / 1000.0, q.cpuMicrosPerRequest(),
        q.rssKb() / 1024, lr.statuses());
  }

  /** Writes report.md and the plots into {@code dir}; returns the report's path. */
  static Path write(Results results, Path dir) throws IOException {
    Files.createDirectories(dir);
    Map<String, List<String>> plots = new LinkedHashMap<>();
    String plotError = null;
    try {
      Map<String, Workload> workloads = new LinkedHashMap<>();
      results.points.forEach(q -> workloads.putIfAbsent(q.workload().label(), q.workload()));
      for (Map.Entry<String, Workload> e : workloads.entrySet()) {
        plots.put(e.getKey(), Plots.write(results, e.getValue(), dir));
      }
    } catch (IOException | RuntimeException | LinkageError | InternalError e) {
      // a JDK without fonts or AWT libraries: the tables are still the report
      plotError = e.toString();
    }
    Path out = dir.resolve("report.md");
    Files.writeString(out, new Report(results).markdown(plots, plotError));
    return out;
  }
}
