package dev.shardserve.perf;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./shardserve bench bodies}: the memory a standalone server needs when many large request
 * bodies arrive at once, with the gateway's byte budget off and on. {@code clients} clients each
 * send {@code rounds} predict requests of about {@code mib} MiB of JSON (half_plus_two, one float
 * per row) at the same time; the server's peak resident memory is sampled from /proc every 20 ms,
 * with the answers by status. Writes {@code OUT/bodies.md}.
 */
@Command(name = "bodies", mixinStandardHelpOptions = true,
    description = "Peak memory of a standalone server under many concurrent large bodies, byte budget off and on.")
final class BodyFlood implements Callable<Integer> {
  @Option(names = "--jar", defaultValue = "deploy/target/shardserve.jar", description = "The product jar.")
  Path jar;

  @Option(names = "--out", defaultValue = "target/bench/bodies", description = "Report folder (default ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--clients", defaultValue = "64")
  int clients;

  @Option(names = "--mib", defaultValue = "8", description = "Body size in MiB (just under it: the limit is 8 MiB).")
  int mib;

  @Option(names = "--rounds", defaultValue = "2", description = "Requests each client sends, one after the other.")
  int rounds;

  @Option(names = "--heap", defaultValue = "2g", description = "The server's -Xmx.")
  String heap;

  /** One configuration's outcome. */
  record Outcome(String name, long peakRssKb, Map<Integer, Integer> statuses, int failed, double seconds,
      boolean serverAlive) {}

  @Override
  public Integer call() throws Exception {
    Path perfJar = Bench.ownJar();
    if (!Files.isRegularFile(jar) || perfJar == null) {
      System.err.println("--jar: '" + jar + "' not found, or not run from shardserve-perf.jar");
      return 2;
    }
    Path dir = out.toAbsolutePath();
    Path work = Files.createDirectories(dir.resolve("work"));
    Path repo = work.resolve("models");
    if (!Files.isDirectory(repo.resolve("half_plus_two/1"))) {
      ServerProcess.runJar(jar.toAbsolutePath(), List.of("example-model", "--out", repo.resolve("half_plus_two")
          .toString()), work.resolve("example-model.log"));
    }
    byte[] body = body((long) mib << 20);
    Systems systems = new Systems(jar.toAbsolutePath(), perfJar, work, repo, 240);
    RawHttp.Request probe = RawHttp.Request.predict("half_plus_two",
        "{\"instances\": [1.0]}".getBytes(StandardCharsets.US_ASCII));
    List<Outcome> outcomes = new ArrayList<>();
    // off: a budget no heap reaches; on: the default (a 32nd of the heap)
    outcomes.add(run(systems, probe, "byte budget off", List.of("-Xmx" + heap,
        "-Dshardserve.gateway.admission.max-bytes-in-flight=1099511627776"), body));
    outcomes.add(run(systems, probe, "byte budget on (default: heap / 32)", List.of("-Xmx" + heap), body));
    StringBuilder md = new StringBuilder(String.format(Locale.ROOT, "# Large bodies: %d clients x %d requests of "
        + "%.1f MiB, server -Xmx%s%n%n| configuration | peak RSS | answers | failed (connection) | seconds | "
        + "server alive after |%n|---|---|---|---|---|---|%n", clients, rounds, body.length / 1048576.0, heap));
    for (Outcome o : outcomes) {
      md.append(String.format(Locale.ROOT, "| %s | %d MiB | %s | %d | %.1f | %s |%n", o.name(), o.peakRssKb() / 1024,
          o.statuses(), o.failed(), o.seconds(), o.serverAlive() ? "yes" : "no"));
    }
    Files.writeString(dir.resolve("bodies.md"), md);
    System.out.println(md);
    return 0;
  }

  private Outcome run(Systems systems, RawHttp.Request probe, String name, List<String> jvm, byte[] body)
      throws Exception {
    System.out.println("[bench] " + name);
    try (Systems.Running s = systems.standalone(probe, "bodies " + name, jvm)) {
      AtomicBoolean sampling = new AtomicBoolean(true);
      Thread sampler = new Thread(() -> {
        while (sampling.get()) {
          s.rssKb(); // remembers the peak
          java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L);
        }
      }, "rss-sampler");
      sampler.setDaemon(true);
      sampler.start();
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(30)).build();
      Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
      int[] failed = new int[1];
      long start = System.nanoTime();
      List<CompletableFuture<Void>> all = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
        for (int r = 0; r < rounds; r++) {
          chain = chain.thenCompose(v -> client.sendAsync(HttpRequest.newBuilder(
                  URI.create("http://127.0.0.1:" + s.port() + "/v1/models/half_plus_two:predict"))
                  .timeout(Duration.ofSeconds(300)).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                  HttpResponse.BodyHandlers.discarding())
              .handle((resp, e) -> {
                if (resp != null) {
                  statuses.merge(resp.statusCode(), 1, Integer::sum);
                } else {
                  synchronized (failed) {
                    failed[0]++;
                  }
                }
                return null;
              }));
        }
        all.add(chain);
      }
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(30, java.util.concurrent.TimeUnit.MINUTES);
      double seconds = (System.nanoTime() - start) / 1e9;
      sampling.set(false);
      sampler.join();
      boolean alive;
      try {
        alive = probe.connect(s.port()).send().status() == 200;
      } catch (java.io.IOException e) {
        alive = false;
      }
      long peak = s.processes().stream().mapToLong(ServerProcess::peakRssKb).sum();
      Outcome o = new Outcome(name, peak, new TreeMap<>(statuses), failed[0], seconds, alive);
      System.out.println("[bench] " + o);
      return o;
    }
  }

  /** {"instances": [0.1234, ...]} just under {@code bytes}. */
  static byte[] body(long bytes) {
    StringBuilder b = new StringBuilder((int) bytes);
    b.append("{\"instances\": [");
    java.util.Random r = new java.util.Random(7);
    boolean first = true;
    while (b.length() < bytes - 16) {
      if (!first) {
        b.append(',');
      }
      first = false;
      b.append(String.format(Locale.ROOT, "%.4f", r.nextDouble()));
    }
    b.append("]}");
    return b.toString().getBytes(StandardCharsets.US_ASCII);
  }
}
