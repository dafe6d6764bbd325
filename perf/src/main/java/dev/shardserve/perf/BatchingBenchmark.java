package dev.shardserve.perf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Issue 4's benchmark, all measured in one run on this machine: the MLP 784-512-512-10 served by
 * {@code standalone} with batching on and with batching off (same TensorFlow session settings:
 * calling-thread execution), 64 closed-loop clients sending one row each; then, with batching
 * on, an open-loop overload at three times the saturated throughput: goodput, how fast refusals
 * are answered, and the server's memory.
 */
final class BatchingBenchmark {
  record Settings(Path jar, Path out, int clients, double warmupSeconds, double seconds, double overloadFactor,
      int overloadWorkers, String serverHeap, List<String> serverOpts) {}

  record Run(LoadResult load, double cpuSeconds, long peakRssKb, double generatorCores, double serverCores) {}

  private final Settings s;
  private final Path work;
  private final byte[] body;

  BatchingBenchmark(Settings settings) {
    this.s = settings;
    this.work = settings.out().resolve("work");
    this.body = Workload.rows("mlp", 1, 784, 7).body();
  }

  String run() throws IOException, InterruptedException {
    Files.createDirectories(work);
    Path repo = work.resolve("repo");
    if (!Files.exists(repo.resolve("mlp/1"))) {
      ServerProcess.runJar(s.jar(), List.of("example-model", "--kind", "mlp", "--out",
          repo.resolve("mlp").toString(), "--model-version", "1"), work.resolve("example-model.log"));
    }
    Path on = work.resolve("batching-on.conf");
    Files.writeString(on, "models { mlp { } }\n");
    Path off = work.resolve("batching-off.conf");
    Files.writeString(off, "models { mlp { batching { enabled = false } } }\n");

    List<String> lines = new ArrayList<>();
    Run batched;
    Run unbatched;
    Run overload;
    try (ServerProcess server = start(repo, on, "on")) {
      batched = closed(server, "batching on, " + s.clients() + " clients");
      double rate = batched.load().goodput() * s.overloadFactor();
      overload = open(server, String.format(Locale.ROOT, "batching on, open loop %.0f req/s (%.0fx)", rate,
          s.overloadFactor()), rate);
    }
    try (ServerProcess server = start(repo, off, "off")) {
      unbatched = closed(server, "batching off, " + s.clients() + " clients");
    }

    lines.add("# Batching benchmark");
    lines.add("");
    lines.add("Model: MLP 784-512-512-10 (`example-model --kind mlp`, seed 42), one row (784 floats, "
        + body.length + " bytes of JSON) per request. Server: `standalone`, " + s.serverHeap()
        + (s.serverOpts().isEmpty() ? "" : " " + String.join(" ", s.serverOpts()))
        + ", default TensorFlow session settings (ops on the calling thread). Machine: "
        + Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.name") + ", Java "
        + System.getProperty("java.version") + ". Window " + s.seconds() + " s after " + s.warmupSeconds()
        + " s of warm-up.");
    lines.add("");
    lines.add("| run | sent/s | answered 200/s | p50 ms | p99 ms | refusals p99 ms (service) | server CPU µs/answer "
        + "| cores: server / load generator | statuses |");
    lines.add("|---|---|---|---|---|---|---|---|---|");
    for (Run r : List.of(batched, unbatched, overload)) {
      LoadResult l = r.load();
      lines.add(String.format(Locale.ROOT, "| %s | %.0f | %.0f | %.2f | %.2f | %s | %.0f | %.2f / %.2f | %s |",
          l.name(),
          l.sentPerSecond(), l.goodput(), l.ms(l.ok(), 50), l.ms(l.ok(), 99),
          l.refused().getTotalCount() == 0 ? "-" : String.format(Locale.ROOT, "%.2f (%.2f)", l.ms(l.refused(), 99),
              l.ms(l.refusedService(), 99)),
          r.cpuSeconds() * 1e6 / Math.max(1, l.count(200)), r.serverCores(), r.generatorCores(), l.statuses()));
    }
    lines.add("");
    lines.add("Latencies are measured from each request's intended send time (open loop: no coordinated "
        + "omission); \"service\" is from the moment the request was written to the connection.");
    double gain = batched.load().goodput() / unbatched.load().goodput();
    double goodputShare = overload.load().goodput() / batched.load().goodput();
    lines.add("");
    lines.add(String.format(Locale.ROOT, "- **batching gain**: %.2fx (batching on ÷ off, 64 clients; goal >= 1.8x)",
        gain));
    lines.add(String.format(Locale.ROOT, "- **goodput at %.0fx overload**: %.0f%% of the saturated throughput "
        + "(goal >= 90%%); refusals answered in %.2f ms at p99 from their intended send time, %.2f ms from "
        + "their actual send (goal <= 5 ms); the generator sent %.0f of the %.0f req/s asked", s.overloadFactor(),
        goodputShare * 100, overload.load().ms(overload.load().refused(), 99),
        overload.load().ms(overload.load().refusedService(), 99), overload.load().sentPerSecond(),
        batched.load().goodput() * s.overloadFactor()));
    lines.add(String.format(Locale.ROOT, "- **server memory**: peak RSS %d MiB while saturated, %d MiB during the "
        + "overload (heap capped at %s)", batched.peakRssKb() / 1024, overload.peakRssKb() / 1024, s.serverHeap()));
    String report = String.join("\n", lines) + "\n";
    Files.writeString(s.out().resolve("batching.md"), report);
    return report;
  }

  private ServerProcess start(Path repo, Path config, String name) throws IOException, InterruptedException {
    int port = ServerProcess.freePort();
    List<String> jvm = new ArrayList<>(List.of(s.serverHeap(), "-XX:+UseG1GC"));
    jvm.addAll(s.serverOpts());
    ServerProcess server = ServerProcess.start(s.jar(), jvm,
        List.of("standalone", "--host", "127.0.0.1", "--port", Integer.toString(port), "--admin-port", "0",
            "--grpc-port", "-1",
            "--model-repo", repo.toString(), "--model-config", config.toString(),
            "--metrics-port", "0", "--metrics-host", "127.0.0.1",
            "--data-dir", work.resolve("data-" + name + "-" + System.nanoTime()).toString()),
        port, work.resolve("server-" + name + ".log"));
    try (RawHttp probe = connection(port)) {
      server.awaitReady(probe, 180);
    }
    return server;
  }

  private RawHttp connection(int port) {
    return new RawHttp("127.0.0.1", port, "POST", "/v1/models/mlp:predict", body);
  }

  private Run closed(ServerProcess server, String name) throws InterruptedException {
    return measure(server, () -> new LoadGenerator(() -> connection(server.port))
        .closed(name, s.clients(), s.warmupSeconds(), s.seconds()));
  }

  private Run open(ServerProcess server, String name, double rate) throws InterruptedException {
    return measure(server, () -> new LoadGenerator(() -> connection(server.port))
        .open(name, rate, s.overloadWorkers(), s.warmupSeconds(), s.seconds()));
  }

  private interface Measured {
    LoadResult run() throws InterruptedException;
  }

  /** Runs the load while sampling the server's RSS; CPU is counted over warm-up and window, scaled to the window. */
  private Run measure(ServerProcess server, Measured load) throws InterruptedException {
    AtomicBoolean done = new AtomicBoolean();
    Thread sampler = new Thread(() -> {
      while (!done.get()) {
        server.rssKb();
        try {
          Thread.sleep(250); // sampling period
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    sampler.setDaemon(true);
    sampler.start();
    double cpuBefore = server.cpuSeconds();
    long ownBefore = ownCpuNanos();
    long wallBefore = System.nanoTime();
    LoadResult result = load.run();
    double cpu = server.cpuSeconds() - cpuBefore;
    double wall = (System.nanoTime() - wallBefore) / 1e9;
    double generatorCores = (ownCpuNanos() - ownBefore) / 1e9 / wall;
    done.set(true);
    sampler.join();
    double share = s.seconds() / (s.seconds() + s.warmupSeconds());
    return new Run(result, cpu * share, server.peakRssKb(), generatorCores, cpu / wall);
  }

  private static long ownCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime();
  }
}
