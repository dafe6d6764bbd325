package dev.shardserve.perf;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./shardserve bench ...}: load against any TF Serving REST URL ({@code --url}), the suites
 * that write the report ({@code --suite}), issue 4's batching benchmark and the JMH benchmarks.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = {Bench.Batching.class, Bench.Jmh.class, Bench.Allocation.class, BodyFlood.class},
    description = {"Load against a TF Serving REST API: ./shardserve bench --url http://127.0.0.1:8501 --model m "
        + "[--concurrency 1,8,64 | --rate 500] [--duration 10]",
        "Suites, with baselines measured in the same run: ./shardserve bench --suite smoke|quick|full [--out DIR]",
        "Scale-out on a simulated accelerator, gateway + 1, 2, 4 worker JVMs: ./shardserve bench --suite scale "
            + "(about 4 minutes) or --suite scale-smoke (1 and 2 nodes, under 2 minutes)"})
public final class Bench implements Callable<Integer> {
  @Option(names = "--suite", description = "smoke (seconds), quick (< 5 min) or full (< 30 min): writes OUT/report.md "
      + "and PNG plots; scale (about 4 min) or scale-smoke (< 2 min): scale-out over 1, 2, 4 worker nodes on a "
      + "simulated accelerator, writes OUT/scale.md.")
  String suite;

  @Option(names = "--out", description = "Report folder (default target/bench/SUITE).")
  Path out;

  @Option(names = "--jar", defaultValue = "deploy/target/shardserve.jar", description = "The product jar "
      + "(default ${DEFAULT-VALUE}).")
  Path jar;

  @Option(names = "--url", description = "Base URL of a TF Serving REST API, e.g. http://127.0.0.1:8501.")
  URI url;

  @Option(names = "--model", description = "The model to load (with --url).")
  String model;

  @Option(names = "--signature", defaultValue = "serving_default")
  String signature;

  @Option(names = "--concurrency", split = ",", description = "Closed loop: concurrent clients, one run each "
      + "(default 1,2,4,8,16,32,64,128).")
  List<Integer> concurrency;

  @Option(names = "--rate", description = "Open loop instead: requests per second, latency from intended send times.")
  Double rate;

  @Option(names = "--connections", defaultValue = "256", description = "Connections that carry the open loop.")
  int connections;

  @Option(names = "--duration", defaultValue = "10", description = "Seconds each measured window lasts.")
  double duration;

  @Option(names = "--warmup", defaultValue = "3", description = "Warm-up seconds before each window.")
  double warmup;

  @Option(names = "--body", description = "The predict body (JSON file); default: built from the model's metadata.")
  Path body;

  @Option(names = "--rows", defaultValue = "1", description = "Instances per generated body.")
  int rows;

  @Override
  public Integer call() throws Exception {
    if (suite != null) {
      return runSuite();
    }
    if (url == null || model == null) {
      System.err.println("give --suite NAME, or --url URL --model MODEL (see --help)");
      return 2;
    }
    return runLoad();
  }

  private Integer runSuite() throws Exception {
    if (ScaleSuite.Plan.NAMES.contains(suite)) {
      return runScale();
    }
    Plan plan;
    try {
      plan = Plan.named(suite);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      return 2;
    }
    if (!Files.isRegularFile(jar)) {
      System.err.println("--jar: '" + jar + "' not found: build it first (mvn -DskipTests package)");
      return 2;
    }
    Path perfJar = ownJar();
    if (perfJar == null) {
      System.err.println("the suites run from perf/target/shardserve-perf.jar (./shardserve bench ...)");
      return 2;
    }
    Path dir = (out != null ? out : Path.of("target", "bench", suite)).toAbsolutePath();
    long t0 = System.nanoTime();
    Results results = new Suite(plan, jar.toAbsolutePath(), perfJar, dir).run();
    Path report = Report.write(results, dir);
    System.out.printf(Locale.ROOT, "%n%s%nwritten to %s in %.0f s%n", Files.readString(report), report,
        (System.nanoTime() - t0) / 1e9);
    return results.failures.isEmpty() ? 0 : 1;
  }

  private Integer runScale() throws Exception {
    ScaleSuite.Plan plan = ScaleSuite.Plan.named(suite);
    if (!Files.isRegularFile(jar)) {
      System.err.println("--jar: '" + jar + "' not found: build it first (mvn -DskipTests package)");
      return 2;
    }
    Path dir = (out != null ? out : Path.of("target", "bench", suite)).toAbsolutePath();
    long t0 = System.nanoTime();
    ScaleSuite.log("suite " + plan.name() + ": " + plan.nodeCounts() + " worker nodes, expected to take "
        + plan.expected());
    ScaleSuite s = new ScaleSuite(plan, jar.toAbsolutePath(), dir);
    String report = s.run();
    Files.createDirectories(dir);
    Path file = dir.resolve("scale.md");
    Files.writeString(file, report);
    System.out.printf(Locale.ROOT, "%n%s%nwritten to %s in %.0f s%n", report, file, (System.nanoTime() - t0) / 1e9);
    return s.failures().isEmpty() ? 0 : 1;
  }

  private Integer runLoad() throws Exception {
    if (!"http".equals(url.getScheme()) || url.getPort() < 0 && url.getHost() == null) {
      System.err.println("--url must be http://HOST:PORT, was '" + url + "'");
      return 2;
    }
    if (duration <= 0 || warmup < 0 || rows < 1 || connections < 1 || rate != null && rate <= 0) {
      System.err.println("--duration, --rows, --connections and --rate must be positive, --warmup >= 0");
      return 2;
    }
    byte[] bytes = body != null ? Files.readAllBytes(body)
        : RequestBodies.fromMetadata(url, model, signature, rows);
    String path = (url.getRawPath() == null ? "" : url.getRawPath().replaceAll("/+$", "")) + "/v1/models/" + model
        + ":predict";
    int port = url.getPort() > 0 ? url.getPort() : 80;
    LoadGenerator g = new LoadGenerator(() -> new RawHttp(url.getHost(), port, "POST", path, bytes));
    System.out.printf(Locale.ROOT, "POST %s%s (%d-byte body), %.0f s windows after %.0f s warm-up%n", url, path,
        bytes.length, duration, warmup);
    System.out.println("| load | answers 200/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | statuses |");
    System.out.println("|---|---|---|---|---|---|---|---|");
    if (rate != null) {
      print(g.open(String.format(Locale.ROOT, "open loop %.0f/s", rate), rate, connections, warmup, duration));
      return 0;
    }
    for (int c : concurrency != null ? concurrency : List.of(1, 2, 4, 8, 16, 32, 64, 128)) {
      if (c < 1) {
        System.err.println("--concurrency must list positive client counts, got " + c);
        return 2;
      }
      print(g.closed(c + " clients", c, warmup, duration));
    }
    return 0;
  }

  private static void print(LoadResult r) {
    System.out.printf(Locale.ROOT, "| %s | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %s |%n", r.name(), r.goodput(),
        r.ms(r.ok(), 50), r.ms(r.ok(), 90), r.ms(r.ok(), 99), r.ms(r.ok(), 99.9),
        r.ok().getTotalCount() == 0 ? Double.NaN : r.ok().getMaxValue() / 1000.0, r.statuses());
  }

  /** This jar's path, when run from it. */
  static Path ownJar() {
    try {
      Path p = Path.of(Bench.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      return Files.isRegularFile(p) ? p : null;
    } catch (Exception e) {
      return null;
    }
  }

  @Command(name = "batching", mixinStandardHelpOptions = true,
      description = "MLP 784-512-512-10, one row per request: batching on vs off at 64 clients, then an "
          + "open-loop overload at 3x the saturated rate. Writes OUT/batching.md.")
  static final class Batching implements Callable<Integer> {
    @Option(names = "--jar", defaultValue = "deploy/target/shardserve.jar", description = "The product jar.")
    Path jar;

    @Option(names = "--out", defaultValue = "target/bench", description = "Report folder (default ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--clients", defaultValue = "64")
    int clients;

    @Option(names = "--warmup", defaultValue = "5", description = "Warm-up seconds before each window.")
    double warmup;

    @Option(names = "--duration", defaultValue = "10", description = "Seconds each measured window lasts.")
    double duration;

    @Option(names = "--overload", defaultValue = "3", description = "Overload factor over the saturated rate.")
    double overload;

    @Option(names = "--overload-workers", defaultValue = "512",
        description = "Connections that carry the open-loop overload.")
    int workers;

    @Option(names = "--server-heap", defaultValue = "-Xmx1g")
    String heap;

    @Option(names = "--server-opt", paramLabel = "-Dkey=value",
        description = "A JVM option for the servers (repeatable), e.g. -Dshardserve.gateway.admission.min-limit=64.")
    java.util.List<String> serverOpts = new java.util.ArrayList<>();

    @Override
    public Integer call() throws Exception {
      if (!Files.isRegularFile(jar)) {
        System.err.println("--jar: '" + jar + "' not found: build it first (mvn -DskipTests package)");
        return 2;
      }
      if (clients < 1 || duration <= 0 || warmup < 0 || overload <= 0 || workers < 1) {
        System.err.println("--clients, --duration, --overload and --overload-workers must be positive");
        return 2;
      }
      Files.createDirectories(out);
      System.out.print(new BatchingBenchmark(new BatchingBenchmark.Settings(jar.toAbsolutePath(),
          out.toAbsolutePath(), clients, warmup, duration, overload, workers, heap, serverOpts)).run());
      return 0;
    }
  }

  @Command(name = "jmh", mixinStandardHelpOptions = true,
      description = {"JMH micro-benchmarks of the hot paths (JSON predict codec, Tensor <-> TensorFlow copies, Kryo "
          + "round-trip of an Infer of 32x784 floats), run with the product jar on the classpath.",
          "Arguments after -- go to JMH, e.g. ./shardserve bench jmh -- -f 1 -wi 2 -i 3 Json"})
  static final class Jmh implements Callable<Integer> {
    @Option(names = "--jar", defaultValue = "deploy/target/shardserve.jar")
    Path jar;

    @CommandLine.Parameters(description = "JMH's own arguments (-h for its help)")
    List<String> jmhArgs = new java.util.ArrayList<>();

    @Override
    public Integer call() throws Exception {
      Path perfJar = ownJar();
      if (!Files.isRegularFile(jar) || perfJar == null) {
        System.err.println("--jar: '" + jar + "' not found, or not run from shardserve-perf.jar");
        return 2;
      }
      List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
          .toString(), "-cp", jar.toAbsolutePath() + java.io.File.pathSeparator + perfJar, "org.openjdk.jmh.Main"));
      cmd.addAll(jmhArgs.isEmpty() ? List.of("dev.shardserve.perf.jmh") : jmhArgs);
      return new ProcessBuilder(cmd).inheritIO().start().waitFor();
    }
  }

  @Command(name = "allocation", mixinStandardHelpOptions = true,
      description = {"Placement at scale, simulated (no network, a few seconds): the real allocation strategy on "
          + "simulated regions of mixed capacity (CPU-only and GPU nodes): initial allocation, then node losses and "
          + "joins, each settled by rebalance rounds. Reports anti-affinity violations, max ÷ mean load per unit of "
          + "capacity, replicas moved against the minimum, rounds to settle and the time of one decision.",
          "./shardserve bench allocation --nodes 100 --models 1000 --replicas 2"})
  static final class Allocation implements Callable<Integer> {
    @Option(names = "--jar", defaultValue = "deploy/target/shardserve.jar", description = "The product jar.")
    Path jar;

    @Option(names = "--nodes", defaultValue = "100")
    int nodes;

    @Option(names = "--models", defaultValue = "1000")
    int models;

    @Option(names = "--replicas", defaultValue = "2")
    int replicas;

    @Option(names = "--losses", defaultValue = "10", description = "Random node losses (default ${DEFAULT-VALUE}).")
    int losses;

    @Option(names = "--joins", defaultValue = "10", description = "Node joins (default ${DEFAULT-VALUE}).")
    int joins;

    @Option(names = "--gpu-nodes", defaultValue = "0.3", description = "Share of GPU nodes (default ${DEFAULT-VALUE}).")
    double gpuNodes;

    @Option(names = "--gpu-models", defaultValue = "0.1",
        description = "Share of models with device = gpu (default ${DEFAULT-VALUE}).")
    double gpuModels;

    @Option(names = "--seed", defaultValue = "42")
    long seed;

    @Option(names = "--out", description = "Also write the report to this file.")
    Path out;

    @Override
    public Integer call() throws Exception {
      Path perfJar = ownJar();
      if (!Files.isRegularFile(jar) || perfJar == null) {
        System.err.println("--jar: '" + jar + "' not found, or not run from shardserve-perf.jar");
        return 2;
      }
      if (nodes < 2 || models < 1 || replicas < 1 || losses < 0 || joins < 0 || losses >= nodes
          || gpuNodes < 0 || gpuNodes > 1 || gpuModels < 0 || gpuModels > 1) {
        System.err.println("need --nodes >= 2, --models >= 1, --replicas >= 1, 0 <= --losses < --nodes, --joins >= 0, "
            + "shares between 0 and 1");
        return 2;
      }
      List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
          jar.toAbsolutePath() + java.io.File.pathSeparator + perfJar,
          "dev.shardserve.perf.allocation.AllocationSimulation", Integer.toString(nodes), Integer.toString(models),
          Integer.toString(replicas), Integer.toString(losses), Integer.toString(joins), Double.toString(gpuNodes),
          Double.toString(gpuModels), Long.toString(seed));
      Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      String report = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      int rc = p.waitFor();
      System.out.print(report);
      if (out != null && rc == 0) {
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, report);
      }
      return rc;
    }
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new Bench()).execute(args));
  }
}
