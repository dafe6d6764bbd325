import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Steady predict load against one or more gateways, as a load balancer in front of them would
 * send it, until a stop file appears; used by {@code deploy/upgrade-test.sh}. Run with the JDK's
 * source launcher: {@code java deploy/scripts/SteadyLoad.java --urls URL[,URL] --model M ...}.
 *
 * <p>Each request goes to the next gateway in turn among those that are ready: with
 * {@code --ready-urls} (each gateway's Akka Management {@code /ready}, polled every 500 ms), as a
 * Kubernetes Service sends traffic only to ready pods; when none is ready, to any. A request whose
 * connection fails (refused, reset, closed: a gateway that is stopping or not started yet) is sent
 * to another gateway, as a balancer retries an idempotent request on a connection error; it
 * counts as retried, not as failed. A request fails when a gateway answers anything but 200 with the expected predictions
 * (the model computes y = 0.5 x + 2), or when no gateway took it within its 30 s deadline.
 */
public final class SteadyLoad {
  static final String BODY = "{\"instances\": [1.0, 2.0, 5.0]}";
  static final List<Double> EXPECTED = List.of(2.5, 3.0, 4.5);
  static final Pattern NUMBER = Pattern.compile("-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?");

  final List<String> urls;
  final String path;
  final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2))
      .version(HttpClient.Version.HTTP_1_1).build();
  final ScheduledExecutorService timer = Executors.newScheduledThreadPool(2);
  final AtomicInteger next = new AtomicInteger();
  final LongAdder sent = new LongAdder();
  final LongAdder ok = new LongAdder();
  final LongAdder failed = new LongAdder();
  final LongAdder retried = new LongAdder();
  final AtomicLong inFlight = new AtomicLong();
  final Map<String, LongAdder> failures = new ConcurrentSkipListMap<>();
  final Map<String, LongAdder> perGateway = new ConcurrentHashMap<>();
  final List<String> readyUrls;
  final java.util.concurrent.atomic.AtomicReferenceArray<Boolean> ready;

  SteadyLoad(List<String> urls, List<String> readyUrls, String model, String label) {
    this.urls = urls;
    this.readyUrls = readyUrls;
    this.ready = new java.util.concurrent.atomic.AtomicReferenceArray<>(urls.size());
    for (int i = 0; i < urls.size(); i++) {
      ready.set(i, true);
    }
    this.path = "/v1/models/" + model + (label == null ? "" : "/labels/" + label) + ":predict";
  }

  /** Polls each gateway's readiness. */
  void pollReadiness() {
    for (int i = 0; i < readyUrls.size(); i++) {
      int gateway = i;
      client.sendAsync(HttpRequest.newBuilder(URI.create(readyUrls.get(i))).timeout(Duration.ofSeconds(2)).GET()
          .build(), HttpResponse.BodyHandlers.discarding())
          .whenComplete((r, e) -> ready.set(gateway, e == null && r.statusCode() == 200));
    }
  }

  /** The gateway after {@code from} (round robin) that is ready; {@code from + 1} when none is. */
  int nextReady(int from) {
    for (int step = 1; step <= urls.size(); step++) {
      int candidate = Math.floorMod(from + step, urls.size());
      if (ready.get(candidate)) {
        return candidate;
      }
    }
    return Math.floorMod(from + 1, urls.size());
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> a = new java.util.HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      a.put(args[i], args[i + 1]);
    }
    for (String required : List.of("--urls", "--model", "--rate", "--stop-file", "--report")) {
      if (!a.containsKey(required)) {
        throw new IllegalArgumentException("missing " + required + "; usage: --urls URL[,URL] --model M "
            + "[--ready-urls URL[,URL]] [--label L] --rate PER_SECOND --stop-file FILE --report FILE");
      }
    }
    double rate = Double.parseDouble(a.get("--rate"));
    if (!(rate > 0 && rate <= 10_000)) {
      throw new IllegalArgumentException("--rate must be in (0, 10000], was " + a.get("--rate"));
    }
    List<String> urls = List.of(a.get("--urls").split(","));
    List<String> readyUrls = a.containsKey("--ready-urls") ? List.of(a.get("--ready-urls").split(",")) : List.of();
    if (!readyUrls.isEmpty() && readyUrls.size() != urls.size()) {
      throw new IllegalArgumentException("--ready-urls needs one URL per gateway of --urls");
    }
    SteadyLoad load = new SteadyLoad(urls, readyUrls, a.get("--model"), a.get("--label"));
    load.run(rate, Path.of(a.get("--stop-file")), Path.of(a.get("--report")));
  }

  void run(double rate, Path stopFile, Path report) throws Exception {
    long started = System.nanoTime();
    long periodMicros = (long) (1_000_000 / rate);
    var sending = timer.scheduleAtFixedRate(() -> send(System.nanoTime() + TimeUnit.SECONDS.toNanos(30)), 0,
        periodMicros, TimeUnit.MICROSECONDS);
    var progress = timer.scheduleAtFixedRate(() -> System.out.println(line(started)), 5, 5, TimeUnit.SECONDS);
    var readiness = timer.scheduleAtFixedRate(this::pollReadiness, 0, 500, TimeUnit.MILLISECONDS);
    while (!Files.exists(stopFile)) {
      TimeUnit.MILLISECONDS.sleep(200);
    }
    sending.cancel(false);
    long drainUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(35);
    while (inFlight.get() > 0 && System.nanoTime() < drainUntil) {
      TimeUnit.MILLISECONDS.sleep(100);
    }
    progress.cancel(false);
    readiness.cancel(false);
    timer.shutdownNow();
    StringBuilder json = new StringBuilder();
    json.append("{\"seconds\": ").append((System.nanoTime() - started) / 1_000_000_000L)
        .append(", \"sent\": ").append(sent.sum())
        .append(", \"ok\": ").append(ok.sum())
        .append(", \"failed\": ").append(failed.sum())
        .append(", \"unanswered\": ").append(inFlight.get())
        .append(", \"retried_on_connection_error\": ").append(retried.sum())
        .append(", \"failures\": {");
    String sep = "";
    for (Map.Entry<String, LongAdder> e : failures.entrySet()) {
      json.append(sep).append('"').append(e.getKey().replace("\"", "'")).append("\": ").append(e.getValue().sum());
      sep = ", ";
    }
    json.append("}, \"answered_by\": {");
    sep = "";
    for (Map.Entry<String, LongAdder> e : perGateway.entrySet()) {
      json.append(sep).append('"').append(e.getKey()).append("\": ").append(e.getValue().sum());
      sep = ", ";
    }
    json.append("}}");
    Files.writeString(report, json + "\n");
    System.out.println(json);
  }

  String line(long started) {
    return String.format("%4ds sent %d ok %d failed %d retried %d in-flight %d",
        (System.nanoTime() - started) / 1_000_000_000L, sent.sum(), ok.sum(), failed.sum(), retried.sum(),
        inFlight.get());
  }

  void send(long deadlineNanos) {
    sent.increment();
    inFlight.incrementAndGet();
    attempt(nextReady(next.getAndIncrement()), deadlineNanos, 0);
  }

  void attempt(int gateway, long deadlineNanos, int attempts) {
    long left = deadlineNanos - System.nanoTime();
    if (left <= 0) {
      fail("no gateway took it within 30 s");
      return;
    }
    String url = urls.get(Math.floorMod(gateway, urls.size()));
    HttpRequest request = HttpRequest.newBuilder(URI.create(url + path))
        .timeout(Duration.ofNanos(left))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(BODY)).build();
    client.sendAsync(request, HttpResponse.BodyHandlers.ofString()).whenComplete((response, error) -> {
      if (error != null) {
        Throwable cause = error.getCause() != null ? error.getCause() : error;
        if (cause instanceof IOException && !(cause instanceof java.net.http.HttpTimeoutException)) {
          // A connection error: the balancer sends it to another gateway (after a pause once all were tried).
          retried.increment();
          long pauseMillis = attempts + 1 >= urls.size() ? 200 : 0;
          timer.schedule(() -> attempt(nextReady(gateway), deadlineNanos, attempts + 1), pauseMillis,
              TimeUnit.MILLISECONDS);
        } else {
          fail(cause.getClass().getSimpleName());
        }
        return;
      }
      if (response.statusCode() != 200) {
        fail("HTTP " + response.statusCode() + " " + abbreviate(response.body()));
      } else if (!EXPECTED.equals(numbers(response.body()))) {
        fail("wrong answer (" + numbers(response.body()).size() + " numbers)"); // no tensor values in reports
      } else {
        ok.increment();
        perGateway.computeIfAbsent(url, u -> new LongAdder()).increment();
        inFlight.decrementAndGet();
      }
    });
  }

  void fail(String reason) {
    failed.increment();
    failures.computeIfAbsent(reason, r -> new LongAdder()).increment();
    inFlight.decrementAndGet();
  }

  static List<Double> numbers(String body) {
    List<Double> out = new java.util.ArrayList<>();
    Matcher m = NUMBER.matcher(body);
    while (m.find()) {
      out.add(Double.parseDouble(m.group()));
    }
    return out;
  }

  static String abbreviate(String body) {
    String b = body.replaceAll("\\s+", " ");
    return b.length() > 120 ? b.substring(0, 120) + "..." : b;
  }
}
