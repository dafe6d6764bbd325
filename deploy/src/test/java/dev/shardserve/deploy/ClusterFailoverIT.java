package dev.shardserve.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The smallest cluster, as separate JVMs started by {@code deploy/local-cluster.sh}: a gateway
 * and two worker nodes of the built jar, on 127.0.0.1, the example model with the default
 * replica count ({@code auto}: one replica on each worker), and a steady client load through the
 * gateway. Four phases, each checked before the next: {@code kill -9} of a worker (the survivor
 * keeps serving and takes the model alone), bringing it back (two replicas again, one per
 * node), a rolling restart of both workers, and a graceful drain of one. No client request may
 * fail in any of them (issue 12, case 1).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterFailoverIT {
  @TempDir static Path dir;
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  static Map<String, String> env;
  static int portBase;
  static int httpPort;
  static int adminPort;

  /** Client load: every answer, by phase (the body of an answer that is not right, cut to 300 characters). */
  record Sample(String phase, int status, long micros, String body) {}

  static final List<Sample> samples = Collections.synchronizedList(new ArrayList<>());
  static final AtomicReference<String> phase = new AtomicReference<>("warm-up");
  static final AtomicBoolean stop = new AtomicBoolean();
  static final List<Thread> clients = new ArrayList<>();

  static int freeBase() throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      int base = 30000 + ThreadLocalRandom.current().nextInt(300) * 100;
      boolean free = true;
      for (int p : new int[] {base, base + 1, base + 2, base + 3, base + 100, base + 101, base + 102, base + 103,
          base + 201, base + 202, base + 203, base + 250, base + 251, base + 300, base + 301, base + 302}) {
        try (ServerSocket s = new ServerSocket(p)) {
          s.setReuseAddress(true);
        } catch (IOException e) {
          free = false;
          break;
        }
      }
      if (free) {
        return base;
      }
    }
    throw new IOException("no free port range");
  }

  static String script(String command) throws Exception {
    Path log = dir.resolve("script-" + command + ".log");
    ProcessBuilder pb = new ProcessBuilder("bash", "local-cluster.sh", command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().putAll(env);
    Process p = pb.start();
    if (!p.waitFor(8, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("local-cluster.sh " + command + " did not finish; see " + log);
    }
    String out = Files.readString(log);
    assertEquals(0, p.exitValue(), "local-cluster.sh " + command + " failed:\n" + out);
    return out;
  }

  @BeforeAll
  static void startCluster() throws Exception {
    portBase = freeBase();
    httpPort = portBase + 250;
    adminPort = portBase + 251;
    env = new HashMap<>(Map.of(
        "NODES", "2",
        "PORT_BASE", Integer.toString(portBase),
        "HTTP_PORT", Integer.toString(httpPort),
        "ADMIN_PORT", Integer.toString(adminPort),
        "GRPC_PORT", "0",
        "STATE_DIR", dir.resolve("cluster").toString(),
        "NODE_HEAP", "-Xmx384m",
        "GATEWAY_HEAP", "-Xmx256m",
        "JAR", Path.of(System.getProperty("shardserve.jar", "target/shardserve.jar")).toAbsolutePath().toString()));
    script("start");
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() -> hosts().size() == 2);
    for (int i = 0; i < 4; i++) {
      Thread t = new Thread(ClusterFailoverIT::load, "client-" + i);
      t.setDaemon(true);
      t.start();
      clients.add(t);
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> samples.size() > 100);
    lastRetries = retries();
  }

  /** The gateway's retries of the model at the end of the last phase. */
  static double lastRetries;

  /** The gateway's retries of the model so far ({@code shardserve_retries_total}, every reason). */
  static double retries() {
    try {
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + (portBase + 300)
          + "/metrics")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      double sum = 0;
      for (String line : r.body().split("\n")) {
        if (line.startsWith("shardserve_retries_total{") && line.contains("model=\"half_plus_two\"")) {
          sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
      }
      return sum;
    } catch (Exception e) {
      return Double.NaN; // the count is reported, not checked
    }
  }

  @AfterAll
  static void stopCluster() throws Exception {
    stop.set(true);
    for (Thread t : clients) {
      t.join(60_000);
    }
    if (env != null) {
      script("stop");
    }
  }

  static void load() {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort
            + "/v1/models/half_plus_two:predict"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"instances\": [1.0]}")).build();
    while (!stop.get()) {
      long t0 = System.nanoTime();
      int status;
      String body = null;
      try {
        HttpResponse<String> r = Http.send(client, request, Duration.ofSeconds(40));
        status = r.statusCode() == 200 && !r.body().equals("{\"predictions\":[2.5]}") ? 600 : r.statusCode();
        body = status == 200 ? null : r.body();
      } catch (Exception e) {
        status = -1;
        body = e.toString();
      }
      samples.add(new Sample(phase.get(), status, (System.nanoTime() - t0) / 1000,
          body == null ? null : body.substring(0, Math.min(300, body.length()))));
    }
  }

  /** Node address → the replicas it hosts, from the gateway's admin API. */
  static Map<String, List<String>> hosts() throws Exception {
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort
        + "/admin/nodes")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    Map<String, List<String>> out = new HashMap<>();
    for (JsonNode n : JSON.readTree(r.body()).get("nodes")) {
      JsonNode replicas = n.get("replicas");
      if (replicas != null && replicas.size() > 0 && n.get("status").asText().equals("Up")) {
        List<String> l = new ArrayList<>();
        replicas.forEach(x -> l.add(x.asText()));
        out.put(n.get("address").asText(), l);
      }
    }
    return out;
  }

  static int nodeIndex(String address) {
    int port = Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    return port - portBase;
  }

  static long pid(int node) throws IOException {
    return Long.parseLong(Files.readString(dir.resolve("cluster").resolve("node-" + node + ".pid")).trim());
  }

  /** Requests of a phase: [sent, failed, p99 ms]. */
  static String summary(String name) {
    List<Sample> mine;
    synchronized (samples) {
      mine = samples.stream().filter(s -> s.phase().equals(name)).toList();
    }
    long failed = mine.stream().filter(s -> s.status() != 200).count();
    List<Long> lat = new ArrayList<>(mine.stream().map(Sample::micros).toList());
    Collections.sort(lat);
    double p99 = lat.isEmpty() ? 0 : lat.get((int) Math.min(lat.size() - 1, Math.ceil(lat.size() * 0.99) - 1)) / 1000.0;
    double retriesNow = retries();
    String s = String.format("%s: %d requests, %d failed, %.0f retried by the gateway, p99 %.1f ms, max %.1f ms", name,
        mine.size(), failed, retriesNow - lastRetries, p99, lat.isEmpty() ? 0 : lat.get(lat.size() - 1) / 1000.0);
    lastRetries = retriesNow;
    System.out.println("cluster phase " + s);
    assertEquals(0, failed, s + "; failures: " + mine.stream().filter(x -> x.status() != 200).limit(5).toList());
    assertTrue(mine.size() > 20, "the load ran during " + s);
    return s;
  }

  /** The worker holding replica 0 of the model, as the gateway's admin API says. */
  static String hostOfReplica0(Map<String, List<String>> hosts) {
    return hosts.entrySet().stream().filter(e -> e.getValue().contains("half_plus_two#0")).map(Map.Entry::getKey)
        .findFirst().orElseThrow(() -> new AssertionError("nobody hosts replica 0: " + hosts));
  }

  @Test
  @Order(1)
  void killMinus9_ofTheWorkerHostingReplica0_failsNoRequest_andTheSurvivorTakesTheModel() throws Exception {
    Map<String, List<String>> before = hosts();
    // The survivor then holds replica 1, which the automatic count (one worker: one replica) no
    // longer wants: it must keep serving until replica 0 serves on the survivor.
    String victim = hostOfReplica0(before);
    String survivor = before.keySet().stream().filter(a -> !a.equals(victim)).findFirst().orElseThrow();
    phase.set("kill-9");
    long t0 = System.nanoTime();
    new ProcessBuilder("kill", "-9", Long.toString(pid(nodeIndex(victim)))).start().waitFor();
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).until(() -> {
      Map<String, List<String>> now = hosts();
      return !now.containsKey(victim) && now.getOrDefault(survivor, List.of()).contains("half_plus_two#0");
    });
    long failoverMs = (System.nanoTime() - t0) / 1_000_000;
    System.out.println("cluster phase kill-9: failover (kill to replica 0 hosted by the survivor) " + failoverMs
        + " ms");
    phase.set("after-kill");
    summary("kill-9");
  }

  @Test
  @Order(2)
  void theKilledWorkerComesBack_andTheModelHasAReplicaOnEachWorkerAgain_failingNoRequest() throws Exception {
    phase.set("return");
    script("start"); // starts what is not running: the killed worker
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() -> hosts().size() == 2);
    phase.set("after-return");
    summary("return");
  }

  @Test
  @Order(3)
  void rollingRestart_ofEveryWorkerNode_failsNoRequest() throws Exception {
    // -Dshardserve.it.rolling-restarts=N repeats the phase (a soak run for the restart window); CI runs it once.
    int times = Integer.getInteger("shardserve.it.rolling-restarts", 1);
    for (int i = 1; i <= times; i++) {
      phase.set("rolling-restart");
      script("rolling-restart");
      await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() -> hosts().size() == 2);
      phase.set("after-rolling");
      summary("rolling-restart");
      synchronized (samples) {
        samples.removeIf(s -> s.phase().equals("rolling-restart")); // each round is checked alone
      }
    }
  }

  @Test
  @Order(4)
  void drain_ofANode_leavesTheOtherServingTheModel_andFailsNoRequest() throws Exception {
    Map<String, List<String>> before = hosts();
    String victim = before.keySet().iterator().next();
    String survivor = before.keySet().stream().filter(a -> !a.equals(victim)).findFirst().orElseThrow();
    long victimPid = pid(nodeIndex(victim));
    phase.set("drain");
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort
            + "/admin/nodes/" + URLEncoder.encode(victim, StandardCharsets.UTF_8) + "/drain"))
        .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(202, r.statusCode(), r.body());
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250))
        .until(() -> ProcessHandle.of(victimPid).map(p -> !p.isAlive()).orElse(true));
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).until(() -> {
      Map<String, List<String>> now = hosts();
      return !now.containsKey(victim) && now.getOrDefault(survivor, List.of()).contains("half_plus_two#0");
    });
    phase.set("after-drain");
    summary("drain");
  }
}
