package dev.shardserve.perf;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code ./shardserve bench --suite scale}: does adding a worker node add its capacity? A gateway
 * and 1, 2 and 4 worker nodes (each its own JVM) serve a simulated model ({@code simulated.json}:
 * an accelerator that uses no CPU while it computes) with one replica per node, under a closed
 * loop of enough clients to keep every device busy; the report gives throughput per node count
 * and the scaling efficiency {@code throughput(N) ÷ (N × throughput(1))}.
 *
 * <p>The device's speed is chosen in the same run: first a zero-latency simulated model measures
 * what the gateway and the hops carry (T0, requests per second, on the one-node cluster); each
 * device then gets a batch time such that the largest node count's devices together need
 * {@link Plan#gatewayShare} of T0, so the test loads the cluster, not only the timers. If the
 * gateway's CPU limits the result, the report shows its CPU per request.
 */
final class ScaleSuite {
  /**
   * @param nodeCounts the clusters measured (worker nodes behind one gateway)
   * @param rowsPerRequest instances per predict request (8: a device batch of 64 rows is 8 requests)
   * @param clientsPerDevice closed-loop clients per worker node: enough for two full batches each
   * @param gatewayShare what the largest cluster's devices together need of the gateway's measured capacity
   */
  record Plan(String name, List<Integer> nodeCounts, double warmupSeconds, double windowSeconds, int rowsPerRequest,
      int clientsPerDevice, double gatewayShare, boolean hopsPerCluster, String expected) {
    static final List<String> NAMES = List.of("scale", "scale-smoke");

    static Plan named(String name) {
      return switch (name) {
        // the measurement: about 3-4 minutes on a quiet 2-core machine
        case "scale" -> new Plan(name, List.of(1, 2, 4), 5, 10, 8, 16, 0.5, true, "about 4 minutes");
        // the perf smoke test: every step once, short windows, 1 and 2 nodes; under 2 minutes
        case "scale-smoke" -> new Plan(name, List.of(1, 2), 1, 2, 8, 16, 0.5, false, "under 2 minutes");
        default -> throw new IllegalArgumentException("--suite must be one of " + NAMES + ", was '" + name + "'");
      };
    }

    int maxNodes() {
      return nodeCounts.stream().mapToInt(Integer::intValue).max().orElse(1);
    }
  }

  static final String DEVICE_MODEL = "sim";
  static final String ZERO_MODEL = "zero";
  static final int WIDTH = 16;
  static final int DEVICE_BATCH = 64;

  /** One measured window on one cluster. */
  record Point(int nodes, String model, int clients, LoadResult load, double gatewayCpuSeconds,
      double nodesCpuSeconds) {
    double requestsPerSecond() {
      return load.goodput();
    }

    double gatewayCpuMicrosPerRequest() {
      long n = load.count(200);
      return n == 0 ? Double.NaN : gatewayCpuSeconds * 1e6 / n;
    }
  }

  private final Plan plan;
  private final Path jar;
  private final Path work;
  private final List<Point> points = new ArrayList<>();
  private final List<String> failures = new ArrayList<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private double zeroCapacity = Double.NaN;
  private long batchLatencyMicros;

  ScaleSuite(Plan plan, Path jar, Path out) {
    this.plan = plan;
    this.jar = jar;
    this.work = out.resolve("work");
  }

  List<String> failures() {
    return failures;
  }

  /** Runs every cluster in turn; returns the report (Markdown). */
  String run() throws IOException, InterruptedException {
    Files.createDirectories(work);
    Path repo = work.resolve("models-" + System.nanoTime());
    writeModel(repo.resolve(ZERO_MODEL).resolve("1"), 0);
    Workload w = Workload.rows(DEVICE_MODEL, plan.rowsPerRequest(), WIDTH, 7);
    Workload zero = Workload.rows(ZERO_MODEL, plan.rowsPerRequest(), WIDTH, 7);
    int maxClients = plan.clientsPerDevice() * plan.maxNodes();
    for (int n : plan.nodeCounts()) {
      log("starting a gateway and " + n + " worker node(s)");
      try (ScaleCluster c = ScaleCluster.start(jar, work, repo, n, DEVICE_MODEL, ZERO_MODEL)) {
        c.awaitReplicas(http, ZERO_MODEL, n, 240);
        if (Double.isNaN(zeroCapacity)) {
          // what the gateway and the hops carry: the zero-latency model, at the largest client count
          Point p = measure(c, zero, n, maxClients);
          zeroCapacity = p.requestsPerSecond();
          double perDevice = plan.gatewayShare() * zeroCapacity / plan.maxNodes();
          double batchesPerSecond = perDevice * plan.rowsPerRequest() / DEVICE_BATCH;
          batchLatencyMicros = Math.max(100, Math.round(1e6 / batchesPerSecond));
          log(String.format(Locale.ROOT, "gateway and hops carry %.0f requests/s (%d rows each): each device gets a "
              + "batch time of %d µs for %d rows", zeroCapacity, plan.rowsPerRequest(), batchLatencyMicros,
              DEVICE_BATCH));
          writeModel(repo.resolve(DEVICE_MODEL).resolve("1"), batchLatencyMicros);
        } else if (plan.hopsPerCluster()) {
          measure(c, zero, n, maxClients);
        }
        c.awaitReplicas(http, DEVICE_MODEL, n, 240);
        measure(c, w, n, plan.clientsPerDevice() * n);
      } catch (IOException | RuntimeException e) {
        failures.add(n + " node(s): " + e.getMessage());
        log(n + " node(s) FAILED: " + e);
      }
    }
    return report();
  }

  private Point measure(ScaleCluster c, Workload w, int nodes, int clients) throws InterruptedException {
    double[] cpu = new double[4];
    LoadGenerator.Window window = new LoadGenerator.Window() {
      @Override
      public void opened() {
        cpu[0] = c.gateway().cpuSeconds();
        cpu[1] = c.nodesCpuSeconds();
      }

      @Override
      public void closed() {
        cpu[2] = c.gateway().cpuSeconds();
        cpu[3] = c.nodesCpuSeconds();
      }
    };
    LoadGenerator g = new LoadGenerator(() -> w.request().connect(c.port()));
    LoadResult r = g.closed(w.model() + ", " + nodes + " node(s), " + clients + " clients", clients,
        plan.warmupSeconds(), plan.windowSeconds(), window);
    Point p = new Point(nodes, w.model(), clients, r, cpu[2] - cpu[0], cpu[3] - cpu[1]);
    points.add(p);
    log(String.format(Locale.ROOT, "%s: %.0f requests/s (%.0f rows/s), p50 %.2f ms, p99 %.2f ms, gateway CPU %.0f "
        + "µs/request, %s", r.name(), p.requestsPerSecond(), p.requestsPerSecond() * w.rows(), r.ms(r.ok(), 50),
        r.ms(r.ok(), 99), p.gatewayCpuMicrosPerRequest(), r.statuses()));
    return p;
  }

  /** A simulated model: x[-1, 16] float copied to y, batches of up to 64 rows, one batch at a time. */
  static void writeModel(Path versionDir, long batchLatencyMicros) throws IOException {
    Files.createDirectories(versionDir);
    String json = "{\"inputs\": {\"x\": {\"dtype\": \"DT_FLOAT\", \"shape\": [-1, " + WIDTH + "]}},\n"
        + " \"outputs\": {\"y\": {\"dtype\": \"DT_FLOAT\", \"shape\": [-1, " + WIDTH + "], \"from\": \"x\"}},\n"
        + " \"batch_latency_us\": " + batchLatencyMicros + ", \"max_batch_size\": " + DEVICE_BATCH
        + ", \"concurrency\": 1}\n";
    Path tmp = versionDir.resolveSibling(versionDir.getFileName() + ".tmp.json");
    Files.writeString(tmp, json);
    Files.move(tmp, versionDir.resolve("simulated.json"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** The report: the calibration, the throughput table and the efficiencies. */
  String report() {
    StringBuilder b = new StringBuilder();
    b.append("# Scale-out on a simulated accelerator (").append(plan.name()).append(")\n\n");
    b.append("Machine: ").append(MachineInfo.describe()).append(". ").append(MachineInfo.versions()).append(".\n\n");
    b.append(String.format(Locale.ROOT, "A gateway and N worker nodes, each its own JVM on this machine; model `%s` is "
        + "simulated (`simulated.json`: %d floats per row copied to the output, batches of up to %d rows, one batch at "
        + "a time per device, %d µs per batch) with one replica per node. Closed loop, %d rows per request, %d "
        + "clients per node, %.0f s windows after %.0f s warm-up. The device time was chosen so that %d devices "
        + "together need %.0f %% of what the gateway and hops carried with a zero-latency model in this run "
        + "(%.0f requests/s).%n%n", DEVICE_MODEL, WIDTH, DEVICE_BATCH, batchLatencyMicros, plan.rowsPerRequest(),
        plan.clientsPerDevice(), plan.windowSeconds(), plan.warmupSeconds(), plan.maxNodes(),
        100 * plan.gatewayShare(), zeroCapacity));
    b.append("| model | nodes | clients | requests/s | rows/s | p50 ms | p99 ms | gateway CPU µs/request | "
        + "nodes' CPU s | statuses |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for (Point p : points) {
      LoadResult r = p.load();
      b.append(String.format(Locale.ROOT, "| %s | %d | %d | %.0f | %.0f | %.2f | %.2f | %.0f | %.1f | %s |%n",
          p.model(), p.nodes(), p.clients(), p.requestsPerSecond(), p.requestsPerSecond() * plan.rowsPerRequest(),
          r.ms(r.ok(), 50), r.ms(r.ok(), 99), p.gatewayCpuMicrosPerRequest(), p.nodesCpuSeconds(), r.statuses()));
    }
    Point one = device(1);
    b.append("\n| nodes | throughput ÷ (N × throughput at 1 node) | device-bound ceiling (requests/s) |\n|---|---|---|\n");
    double perDevice = batchLatencyMicros == 0 ? Double.NaN
        : 1e6 / batchLatencyMicros * DEVICE_BATCH / plan.rowsPerRequest();
    for (int n : plan.nodeCounts()) {
      Point p = device(n);
      if (p != null) {
        double eff = one == null ? Double.NaN : p.requestsPerSecond() / (n * one.requestsPerSecond());
        b.append(String.format(Locale.ROOT, "| %d | %.2f | %.0f |%n", n, eff, n * perDevice));
      }
    }
    Point last = device(plan.maxNodes());
    if (last != null && !Double.isNaN(zeroCapacity)) {
      double gatewayCpu = last.gatewayCpuSeconds() / plan.windowSeconds();
      b.append(String.format(Locale.ROOT, "%nAt %d nodes the gateway used %.2f cores (%.0f µs of CPU per request); "
          + "the machine has %d cores for the gateway, the nodes and the load generator together.%s%n",
          plan.maxNodes(), gatewayCpu, last.gatewayCpuMicrosPerRequest(), Runtime.getRuntime().availableProcessors(),
          gatewayCpu > 0.8 * Runtime.getRuntime().availableProcessors() / 2.0
              ? " The gateway's CPU is the limit here, not the devices." : ""));
    }
    if (!failures.isEmpty()) {
      b.append("\n## Failed\n\n");
      for (String f : failures) {
        b.append("- ").append(f).append('\n');
      }
    }
    return b.toString();
  }

  private Point device(int nodes) {
    for (Point p : points) {
      if (p.nodes() == nodes && p.model().equals(DEVICE_MODEL)) {
        return p;
      }
    }
    return null;
  }

  static void log(String line) {
    System.out.println("[scale] " + line);
    System.out.flush();
  }

  /** A gateway and N worker nodes on this machine, serving the given models with one replica per node. */
  static final class ScaleCluster implements AutoCloseable {
    private final List<ServerProcess> processes;
    private final int port;
    private final int adminPort;

    private ScaleCluster(List<ServerProcess> processes, int port, int adminPort) {
      this.processes = processes;
      this.port = port;
      this.adminPort = adminPort;
    }

    static ScaleCluster start(Path jar, Path work, Path repo, int nodes, String... models)
        throws IOException, InterruptedException {
      StringBuilder config = new StringBuilder("models {\n");
      for (String m : models) {
        config.append("  ").append(m).append(" { replicas = ").append(nodes).append(" }\n");
      }
      Path modelConfig = work.resolve("models-" + nodes + "-nodes.conf");
      Files.writeString(modelConfig, config.append("}\n"));
      int port = ServerProcess.freePort();
      int admin = ServerProcess.freePort();
      int gatewayArtery = ServerProcess.freePort();
      String seed = "127.0.0.1:" + gatewayArtery;
      List<ServerProcess> all = new ArrayList<>();
      try {
        all.add(ServerProcess.start(jar, List.of("-Xmx384m"), List.of("gateway", "--seed", seed,
            "--artery-port", Integer.toString(gatewayArtery), "--host", "127.0.0.1", "--port", Integer.toString(port),
            "--grpc-port", "-1", "--model-config", modelConfig.toString(),
            "--admin-port", Integer.toString(admin),
            "--management-port", Integer.toString(ServerProcess.freePort()),
            "--metrics-port", "0", "--metrics-host", "127.0.0.1",
            "--data-dir", work.resolve("gateway-" + System.nanoTime()).toString()), port,
            work.resolve("scale-" + nodes + "-gateway.log")));
        for (int i = 1; i <= nodes; i++) {
          all.add(ServerProcess.start(jar, List.of("-Xmx256m", "-Dshardserve.node.repository-poll-interval=250ms"),
              List.of("node", "--seed", seed, "--gpus", "none",
                  "--artery-port", Integer.toString(ServerProcess.freePort()), "--model-repo", repo.toString(),
                  "--admin-port", Integer.toString(ServerProcess.freePort()),
                  "--management-port", Integer.toString(ServerProcess.freePort()),
                  "--metrics-port", "0", "--metrics-host", "127.0.0.1",
                  "--data-dir", work.resolve("node-" + i + "-" + System.nanoTime()).toString()), -1,
              work.resolve("scale-" + nodes + "-node-" + i + ".log")));
        }
        return new ScaleCluster(all, port, admin);
      } catch (IOException | RuntimeException e) {
        for (ServerProcess p : all) {
          p.close();
        }
        throw e;
      }
    }

    int port() {
      return port;
    }

    ServerProcess gateway() {
      return processes.get(0);
    }

    double nodesCpuSeconds() {
      double sum = 0;
      for (int i = 1; i < processes.size(); i++) {
        sum += processes.get(i).cpuSeconds();
      }
      return sum;
    }

    /** Waits until {@code n} replicas of {@code model} report a version AVAILABLE (the gateway's admin API). */
    void awaitReplicas(HttpClient http, String model, int n, int seconds) throws IOException, InterruptedException {
      long until = System.nanoTime() + seconds * 1_000_000_000L;
      String last = "";
      while (System.nanoTime() < until) {
        for (ServerProcess p : processes) {
          if (!p.process.isAlive()) {
            throw new IOException("a process exited with " + p.process.exitValue() + "; see " + p.log);
          }
        }
        try {
          HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort
              + "/admin/models/" + model)).timeout(Duration.ofSeconds(10)).GET().build(),
              HttpResponse.BodyHandlers.ofString());
          last = r.body();
          if (r.statusCode() == 200 && count(last, "\"state\":\"AVAILABLE\"") >= n) {
            return;
          }
        } catch (IOException e) {
          last = e.toString(); // not listening yet
        }
        Thread.sleep(200); // polling processes that are starting: no condition to wait on
      }
      throw new IOException(n + " replicas of " + model + " not AVAILABLE after " + seconds + " s; last answer: "
          + last);
    }

    private static int count(String s, String what) {
      int n = 0;
      for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + what.length())) {
        n++;
      }
      return n;
    }

    @Override
    public void close() throws InterruptedException {
      for (int i = processes.size() - 1; i >= 0; i--) {
        processes.get(i).close();
      }
    }
  }
}
