package dev.shardserve.perf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One suite run: the models are written by the product jar's {@code example-model} (fixed seeds),
 * then every system is started in turn, alone on the machine, measured and stopped, so that all
 * numbers of a report come from the same run on the same machine.
 */
final class Suite {
  static final String STANDALONE = "shardserve standalone";
  static final String CLUSTER = "shardserve gateway + 2 nodes";
  static final String NAIVE = "naive server";
  static final String NAIVE_DEFAULT = "naive server (TF default threads)";
  static final String CONSTANT = "bare Akka HTTP route";
  static final String GRPC_PREDICT = "shardserve standalone, gRPC Predict (tensor_content in, typed out)";
  static final String GRPC_PREDICT_CONTENT = "shardserve standalone, gRPC Predict (tensor_content in and out)";
  static final String GRPC_INFER = "shardserve standalone, KServe gRPC ModelInfer (raw in and out)";
  static final String HALF_PLUS_TWO = "half_plus_two";
  static final String MLP = "mlp";
  static final int MLP_WIDTH = 784;
  static final String MLP_INPUT = "x";
  static final String MLP_OUTPUT = "probabilities";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Plan plan;
  private final Path jar;
  private final Path perfJar;
  private final Path work;
  private final Results results;
  private Progress progress;
  private final Workload hpt = Workload.rows(HALF_PLUS_TWO, 1, 0, 7);
  private final Workload mlp = Workload.rows(MLP, 1, MLP_WIDTH, 7);
  private final Workload mlpWide = Workload.rows(MLP, 32, MLP_WIDTH, 7);
  private final Workload mlpV2Json = Workload.v2Json(MLP, MLP_INPUT, MLP_OUTPUT, 1, MLP_WIDTH, 7);
  private final Workload mlpV2Binary = Workload.v2Binary(MLP, MLP_INPUT, 1, MLP_WIDTH, 7);
  private final Workload mlpWideV2Json = Workload.v2Json(MLP, MLP_INPUT, MLP_OUTPUT, 32, MLP_WIDTH, 7);
  private final Workload mlpWideV2Binary = Workload.v2Binary(MLP, MLP_INPUT, 32, MLP_WIDTH, 7);

  Suite(Plan plan, Path jar, Path perfJar, Path out) {
    this.plan = plan;
    this.jar = jar;
    this.perfJar = perfJar;
    this.work = out.resolve("work");
    this.results = new Results(plan);
  }

  Results run() throws IOException, InterruptedException {
    try (Progress p = new Progress(plan.expectedSeconds(), 20)) {
      progress = p;
      return runAll();
    }
  }

  private Results runAll() throws IOException, InterruptedException {
    Files.createDirectories(work);
    Path repo = work.resolve("models");
    for (String[] m : new String[][] {{HALF_PLUS_TWO, "half_plus_two"}, {MLP, "mlp"}}) {
      if (!Files.isDirectory(repo.resolve(m[0]).resolve("1"))) {
        ServerProcess.runJar(jar, List.of("example-model", "--kind", m[1], "--out", repo.resolve(m[0]).toString(),
            "--model-version", "1"), work.resolve("example-model-" + m[0] + ".log"));
      }
    }
    Systems systems = new Systems(jar, perfJar, work, repo, 240);
    ceiling(systems, repo, HALF_PLUS_TWO, List.of());
    ceiling(systems, repo, MLP, List.of(mlp, mlpWide));

    measure(CONSTANT, () -> systems.constant(hpt.request()), s -> {
      closedRuns(s, hpt, plan.baselineClients());
      closedRuns(s, mlp, plan.baselineClients());
    });
    measure(NAIVE, () -> systems.naive("calling-thread", mlp.request()), s -> {
      closedRuns(s, hpt, plan.baselineClients());
      closedRuns(s, mlp, plan.baselineClients());
      closedRuns(s, mlpWide, plan.wideClients());
      overload(s, mlp);
    });
    if (plan.naiveDefaultThreads()) {
      measure(NAIVE_DEFAULT, () -> systems.naive("default", mlp.request()), s -> {
        closedRuns(s, hpt, plan.baselineClients());
        closedRuns(s, mlp, plan.baselineClients());
      });
    }
    measure(STANDALONE, () -> systems.standalone(mlp.request()), s -> {
      closedRuns(s, hpt, plan.sweep());
      closedRuns(s, mlp, plan.sweep());
      results.threads.put(s.name(), s.threadsByName());
      closedRuns(s, mlpWide, plan.wideClients());
      // The Open Inference Protocol: the same rows in JSON and in Triton's binary form, at one
      // client (latency) and at the client count the ratios compare at; 32 rows at saturation.
      closedRuns(s, mlpV2Json, List.of(1, plan.ratioClients()));
      closedRuns(s, mlpV2Binary, List.of(1, plan.ratioClients()));
      closedRuns(s, mlpWideV2Json, plan.wideClients());
      closedRuns(s, mlpWideV2Binary, plan.wideClients());
      crowd(s, mlp);
      overload(s, hpt);
      overload(s, mlp);
      grpcRuns(s, GrpcLoad.Api.PREDICT_TENSOR_CONTENT, GRPC_PREDICT);
      grpcRuns(s, GrpcLoad.Api.MODEL_INFER_RAW, GRPC_INFER);
    });
    measure(GRPC_PREDICT_CONTENT, () -> systems.standalone(mlp.request(), GRPC_PREDICT_CONTENT,
        List.of("-Dshardserve.gateway.grpc.tensor-content-outputs=on")),
        s -> grpcRuns(s, GrpcLoad.Api.PREDICT_TENSOR_CONTENT, GRPC_PREDICT_CONTENT));
    if (plan.cluster()) {
      measure(CLUSTER, () -> systems.cluster(mlp.request()), s -> {
        closedRuns(s, hpt, plan.baselineClients());
        closedRuns(s, mlp, plan.baselineClients());
      });
    }
    if (plan.rampSeconds() > 0) {
      rampUp(STANDALONE, () -> systems.standalone(mlp.request()), mlp);
      if (plan.cluster()) {
        rampUp(CLUSTER, () -> systems.cluster(mlp.request()), mlp);
      }
    }
    return results;
  }

  /**
   * Time to full speed: a fresh start of the system, then one-second closed-loop windows (64
   * clients) from its readiness on (as a balancer sends load); steady is the median of the last five,
   * full speed the first window at 90 % of it, counted from the process's start (JIT warm-up of the
   * request path shows).
   */
  private void rampUp(String name, Start start, Workload w) throws InterruptedException {
    log("time to full speed of " + name);
    progress.now("time to full speed of " + name);
    try (Systems.Running s = start.start()) {
      long base = System.nanoTime();
      java.util.List<double[]> windows = new ArrayList<>();
      LoadGenerator g = new LoadGenerator(() -> w.request().connect(s.port()));
      for (int i = 0; i < plan.rampSeconds(); i++) {
        LoadResult r = g.closed(name + " ramp " + i, 64, 0, 1.0);
        windows.add(new double[] {s.readySeconds() + (System.nanoTime() - base) / 1e9, r.goodput()});
      }
      java.util.List<Double> last = new ArrayList<>();
      for (int i = Math.max(0, windows.size() - 5); i < windows.size(); i++) {
        last.add(windows.get(i)[1]);
      }
      last.sort(null);
      double steady = last.get(last.size() / 2);
      double at = Double.NaN;
      for (double[] win : windows) {
        if (win[1] >= 0.9 * steady) {
          at = win[0];
          break;
        }
      }
      results.rampUps.put(name, new Results.RampUp(windows, steady, at));
      progress.measured();
      log(String.format(Locale.ROOT, "%s: steady %.0f/s, 90%% of it %.1f s after its start", name, steady, at));
    } catch (IOException | RuntimeException e) {
      results.failures.add("time to full speed of " + name + ": " + e.getMessage());
      log("time to full speed of " + name + " FAILED: " + e);
    }
  }

  private interface Start {
    Systems.Running start() throws IOException, InterruptedException;
  }

  private interface Runs {
    void run(Systems.Running s) throws IOException, InterruptedException;
  }

  /** Starts a system (its cold start is recorded), runs its windows, stops it; a failure is reported, not fatal. */
  private void measure(String name, Start start, Runs runs) throws InterruptedException {
    log("starting " + name);
    progress.now("starting " + name);
    try (Systems.Running s = start.start()) {
      results.coldStarts.put(name, s.coldStartSeconds());
      log(String.format(Locale.ROOT, "%s answered %.2f s after its start, ready %.2f s after it", name,
          s.coldStartSeconds(), s.readySeconds()));
      runs.run(s);
    } catch (IOException | RuntimeException e) {
      results.failures.add(name + ": " + e.getMessage());
      log(name + " FAILED: " + e);
    }
  }

  /**
   * The gRPC scenarios on MLP: 1 row at the ratio's client count (64 in full) and 32 rows per
   * request at the efficiency runs' counts, each load generator in its own JVM on one thread.
   */
  private void grpcRuns(Systems.Running s, GrpcLoad.Api api, String system) throws InterruptedException {
    grpcPoint(s, api, system, 1, plan.ratioClients());
    for (int c : plan.wideClients()) {
      grpcPoint(s, api, system, 32, c);
    }
  }

  private void grpcPoint(Systems.Running s, GrpcLoad.Api api, String system, int rows, int clients)
      throws InterruptedException {
    Workload w = new Workload(MLP, "gRPC " + api, rows, new byte[0], "");
    String name = system + ", " + w.label() + ", " + clients + " clients";
    progress.now(name);
    Path log = work.resolve("grpc-load-" + api + "-" + rows + "-" + clients + ".log");
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
        "-XX:ActiveProcessorCount=1", "-cp", jar + java.io.File.pathSeparator + perfJar,
        "dev.shardserve.perf.GrpcLoad", api.name(), Integer.toString(s.grpcPort()), MLP, "x",
        Integer.toString(rows), Integer.toString(MLP_WIDTH), Integer.toString(clients),
        Double.toString(plan.warmupSeconds()), Double.toString(plan.windowSeconds()));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      double[] cpu = new double[2];
      long rss = 0;
      String result = null;
      StringBuilder out = new StringBuilder();
      try (java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
          java.nio.charset.StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          out.append(line).append('\n');
          if (line.equals("window opened")) {
            cpu[0] = s.cpuSeconds();
          } else if (line.equals("window closed")) {
            cpu[1] = s.cpuSeconds();
            rss = s.rssKb();
          } else if (line.startsWith("result ")) {
            result = line;
          }
        }
      }
      p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS);
      Files.writeString(log, out);
      if (result == null) {
        throw new IOException("the gRPC load generator printed no result; see " + log);
      }
      LoadResult lr = GrpcLoadLine.parse(name, plan.windowSeconds(), result);
      Results.Point pt = new Results.Point(system, w, clients, 0, lr, cpu[1] - cpu[0], rss);
      results.points.add(pt);
      progress.measured();
      log(String.format(Locale.ROOT, "%s: %.0f/s, %.0f rows/s, p50 %.2f ms, p99 %.2f ms, CPU %.0f µs/request "
          + "(%.1f µs/row), %s", name, pt.requestsPerSecond(), pt.rowsPerSecond(), pt.ms(50), pt.ms(99),
          pt.cpuMicrosPerRequest(), pt.cpuMicrosPerRequest() / rows, lr.statuses()));
    } catch (IOException | java.util.zip.DataFormatException | RuntimeException e) {
      results.failures.add(name + ": " + e.getMessage());
      log(name + " FAILED: " + e);
    }
  }

  private void closedRuns(Systems.Running s, Workload w, List<Integer> clients) throws InterruptedException {
    for (int c : clients) {
      point(s, w, c, 0);
    }
  }

  /** Open loops at each of the plan's factors × this system's saturated throughput on {@code w}. */
  private void overload(Systems.Running s, Workload w) throws InterruptedException {
    Optional<Results.Point> saturated = results.saturated(s.name(), w.model(), w.rows());
    if (saturated.isPresent()) {
      for (double factor : plan.overloadFactors()) {
        point(s, w, 0, saturated.get().requestsPerSecond() * factor);
      }
    }
  }

  /**
   * A closed loop with the plan's crowd factor × the clients that saturate this system (e.g. 32 →
   * 512): more clients than it can serve at once, each sending again as soon as it is answered.
   */
  private void crowd(Systems.Running s, Workload w) throws InterruptedException {
    Optional<Results.Point> saturating = results.saturating(s.name(), w.model(), w.rows());
    if (plan.crowdFactor() <= 0 || saturating.isEmpty()) {
      return;
    }
    int clients = Math.min(plan.maxCrowd(), saturating.get().clients() * plan.crowdFactor());
    Results.Point p = point(s, w, clients, 0);
    results.crowds.put(s.name(), p);
  }

  private Results.Point point(Systems.Running s, Workload w, int clients, double rate) throws InterruptedException {
    double[] cpu = new double[2];
    long[] rss = new long[1];
    LoadGenerator.Window window = new LoadGenerator.Window() {
      @Override
      public void opened() {
        cpu[0] = s.cpuSeconds();
      }

      @Override
      public void closed() {
        cpu[1] = s.cpuSeconds();
        rss[0] = s.rssKb();
      }
    };
    LoadGenerator g = new LoadGenerator(() -> w.request().connect(s.port()));
    String name = s.name() + ", " + w.label() + ", " + (clients > 0 ? clients + " clients"
        : String.format(Locale.ROOT, "open loop %.0f/s", rate));
    progress.now(name);
    LoadResult r = clients > 0 ? g.closed(name, clients, plan.warmupSeconds(), plan.windowSeconds(), window)
        : g.open(name, rate, plan.overloadConnections(), plan.warmupSeconds(), plan.windowSeconds(), window);
    Results.Point p = new Results.Point(s.name(), w, clients, rate, r, cpu[1] - cpu[0], rss[0]);
    results.points.add(p);
    progress.measured();
    log(String.format(Locale.ROOT, "%s: %.0f/s, p50 %.2f ms, p99 %.2f ms, CPU %.0f µs/request, %s", name,
        p.requestsPerSecond(), p.ms(50), p.ms(99), p.cpuMicrosPerRequest(), r.statuses()));
    return p;
  }

  private void ceiling(Systems systems, Path repo, String model, List<Workload> decode) throws InterruptedException {
    progress.now("in-process ceiling of " + model);
    try {
      List<String> args = new ArrayList<>(List.of("--model", repo.resolve(model).toString(), "--seconds",
          Double.toString(plan.ceilingSeconds()), "--batches",
          String.join(",", plan.ceilingBatches().stream().map(String::valueOf).toList())));
      List<String> bodies = new ArrayList<>();
      for (Workload w : decode) {
        Path f = work.resolve("body-" + w.model() + "-" + w.rows() + ".json");
        Files.write(f, w.body());
        bodies.add(f.toString());
      }
      if (!bodies.isEmpty()) {
        args.addAll(List.of("--json-body", String.join(",", bodies)));
      }
      log("in-process ceiling of " + model);
      String out = ServerProcess.runMain(systems.classpath(), "dev.shardserve.perf.baseline.Ceiling", args,
          work.resolve("ceiling-" + model + ".log"), 600);
      double p50 = Double.NaN;
      double p99 = Double.NaN;
      List<Results.CeilingPoint> points = new ArrayList<>();
      Map<Integer, Double> decodeCost = new TreeMap<>();
      Map<Integer, Double> fullDecodeCost = new TreeMap<>();
      for (String line : out.split("\n")) {
        if (!line.startsWith("{")) {
          continue;
        }
        JsonNode n = JSON.readTree(line);
        switch (n.get("kind").asText()) {
          case "latency" -> {
            p50 = n.get("p50Micros").asDouble();
            p99 = n.get("p99Micros").asDouble();
          }
          case "throughput" -> points.add(new Results.CeilingPoint(n.get("batch").asInt(),
              n.get("rowsPerSecond").asDouble(), n.get("cpuMicrosPerRow").asDouble()));
          case "json-decode" -> {
            decodeCost.put(n.get("rows").asInt(), n.get("microsPerRow").asDouble());
            if (n.has("fullMicrosPerRow")) {
              fullDecodeCost.put(n.get("rows").asInt(), n.get("fullMicrosPerRow").asDouble());
            }
          }
          default -> { }
        }
      }
      if (points.isEmpty()) {
        throw new IOException("the ceiling printed no measurement; see " + work.resolve("ceiling-" + model + ".log"));
      }
      results.ceilings.put(model, new Results.Ceiling(model, p50, p99, points, decodeCost, fullDecodeCost));
      log(String.format(Locale.ROOT, "ceiling of %s: batch-1 call p50 %.0f µs, best %.0f rows/s at batch %d", model,
          p50, results.ceilings.get(model).best().rowsPerSecond(), results.ceilings.get(model).best().batch()));
    } catch (IOException | RuntimeException e) {
      results.failures.add("ceiling of " + model + ": " + e.getMessage());
      log("ceiling of " + model + " FAILED: " + e);
    }
  }

  private static void log(String line) {
    System.out.println("[bench] " + line);
    System.out.flush();
  }
}
