package dev.shardserve.perf;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./shardserve bench ...}: benchmarks that drive the product jar as separate processes. */
@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = {Bench.Batching.class, Bench.Load.class},
    description = "Benchmarks of shardserve against baselines measured in the same run (see perf/ in the README).")
public final class Bench implements Callable<Integer> {

  @Override
  public Integer call() {
    CommandLine.usage(this, System.out);
    return 2;
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

  @Command(name = "load", mixinStandardHelpOptions = true,
      description = "POST one body to one URL: closed loop (--clients) or open loop (--rate); prints a summary.")
  static final class Load implements Callable<Integer> {
    @Option(names = "--url", required = true, description = "http://HOST:PORT/PATH")
    java.net.URI url;

    @Option(names = "--body", required = true, description = "File with the request body (JSON).")
    Path body;

    @Option(names = "--clients", defaultValue = "64", description = "Closed-loop clients, or open-loop connections.")
    int clients;

    @Option(names = "--rate", defaultValue = "0", description = "Open loop: requests per second (0: closed loop).")
    double rate;

    @Option(names = "--warmup", defaultValue = "3")
    double warmup;

    @Option(names = "--duration", defaultValue = "10")
    double duration;

    @Override
    public Integer call() throws Exception {
      byte[] bytes = Files.readAllBytes(body);
      LoadGenerator g = new LoadGenerator(() -> new RawHttp(url.getHost(), url.getPort(), "POST", url.getRawPath(),
          bytes));
      LoadResult r = rate > 0 ? g.open("open " + rate, rate, clients, warmup, duration)
          : g.closed("closed " + clients, clients, warmup, duration);
      System.out.printf(java.util.Locale.ROOT, "%s: sent %.0f/s, 200 %.0f/s, p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, "
          + "max %.2f ms; statuses %s%n", r.name(), r.sentPerSecond(), r.goodput(), r.ms(r.ok(), 50), r.ms(r.ok(), 99),
          r.ms(r.ok(), 99.9), r.ok().getMaxValue() / 1000.0, r.statuses());
      return 0;
    }
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new Bench()).execute(args));
  }
}
