package dev.shardserve.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cluster Bootstrap with {@code --discovery kubernetes-api} against a stub Kubernetes API: a
 * {@code node} and a {@code gateway} (separate JVMs of the built jar, no {@code --seed}) find each
 * other as two pods listed by the API (pod IP 127.0.0.1 used raw, their {@code management} ports)
 * and form one cluster.
 */
class KubernetesBootstrapIT {
  static final String NAMESPACE = "shardserve-it";
  static final String TOKEN = "stub-service-account-token";
  @TempDir static Path dir;
  static final List<Process> processes = new ArrayList<>();
  static final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  static KubernetesApiStub api;
  static int nodeManagement;
  static int gatewayManagement;
  static long startNanos;
  static long formedMillis;

  @BeforeAll
  static void startPods() throws Exception {
    nodeManagement = freePort();
    gatewayManagement = freePort();
    int nodeArtery = freePort();
    int gatewayArtery = freePort();
    api = KubernetesApiStub.start(dir, NAMESPACE, TOKEN, "app=" + ClusterDiscovery.SERVICE_NAME, List.of(
        new KubernetesApiStub.Pod("shardserve-worker-0", "127.0.0.1",
            Map.of("management", nodeManagement, "remoting", nodeArtery)),
        new KubernetesApiStub.Pod("shardserve-gateway-0", "127.0.0.1",
            Map.of("management", gatewayManagement, "remoting", gatewayArtery))));
    Path repo = Files.createDirectories(dir.resolve("models"));
    startNanos = System.nanoTime();
    processes.add(start("node", "node", "--discovery", "kubernetes-api", "--app-version", "1.2.3",
        "--artery-port", Integer.toString(nodeArtery), "--management-port", Integer.toString(nodeManagement),
        "--model-repo", repo.toString(), "--data-dir", dir.resolve("node-data").toString(),
        "--admin-port", Integer.toString(freePort())));
    processes.add(start("gateway", "gateway", "--discovery", "kubernetes-api",
        "--artery-port", Integer.toString(gatewayArtery), "--management-port", Integer.toString(gatewayManagement),
        "--port", Integer.toString(freePort()), "--host", "127.0.0.1", "--admin-port", Integer.toString(freePort()),
        "--data-dir", dir.resolve("gateway-data").toString()));
    await().atMost(Duration.ofSeconds(50)).pollInterval(Duration.ofMillis(250)).ignoreExceptions()
        .until(() -> upMembers(nodeManagement).size() == 2 && upMembers(gatewayManagement).size() == 2);
    formedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    System.out.println("bootstrap: one cluster of 2 members " + formedMillis + " ms after the processes started; "
        + "members " + members(gatewayManagement).toString() + "; Kubernetes API requests " + api.seen().size());
  }

  @AfterAll
  static void stopPods() throws Exception {
    for (Process p : processes) {
      p.destroy();
    }
    for (Process p : processes) {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
    if (api != null) {
      api.close();
    }
  }

  @Test
  void bothProcesses_seeOneClusterOfTheTwoPods_withTheirRoles() throws Exception {
    for (int port : new int[] {nodeManagement, gatewayManagement}) {
      TreeSet<String> roles = new TreeSet<>();
      for (JsonNode m : members(port).get("members")) {
        assertEquals("Up", m.get("status").asText(), m.toString());
        m.get("roles").forEach(r -> roles.add(r.asText()));
      }
      assertTrue(roles.containsAll(List.of("worker", "gateway")), "roles seen from port " + port + ": " + roles);
    }
  }

  @Test
  void discovery_askedTheApiForItsNamespaceAndLabel_withTheServiceAccountToken() {
    List<KubernetesApiStub.Seen> seen = api.seen();
    assertTrue(seen.size() >= 2, "both processes look their contact points up: " + seen);
    for (KubernetesApiStub.Seen s : seen) {
      assertEquals(new KubernetesApiStub.Seen("/api/v1/namespaces/" + NAMESPACE + "/pods", "app=shardserve", 200), s);
    }
  }

  @Test
  void bothProcesses_areReady() throws Exception {
    for (int port : new int[] {nodeManagement, gatewayManagement}) {
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(250)).ignoreExceptions()
          .until(() -> get(port, "/ready").statusCode() == 200);
    }
  }

  private static List<String> upMembers(int managementPort) throws Exception {
    List<String> up = new ArrayList<>();
    for (JsonNode m : members(managementPort).get("members")) {
      if (m.get("status").asText().equals("Up")) {
        up.add(m.get("node").asText());
      }
    }
    return up;
  }

  private static JsonNode members(int managementPort) throws Exception {
    HttpResponse<String> r = get(managementPort, "/cluster/members");
    assertEquals(200, r.statusCode(), r.body());
    return new ObjectMapper().readTree(r.body());
  }

  private static HttpResponse<String> get(int port, String path) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private static Process start(String name, String... args) throws IOException {
    String jar = System.getProperty("shardserve.jar", "target/shardserve.jar");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx384m",
        // What a pod finds under /var/run/secrets/kubernetes.io/serviceaccount/ (the files) and in
        // its environment (KUBERNETES_SERVICE_HOST/PORT, below).
        "-Dakka.discovery.kubernetes-api.api-ca-path=" + api.caPem,
        "-Dakka.discovery.kubernetes-api.api-token-path=" + api.tokenFile,
        "-Dakka.discovery.kubernetes-api.pod-namespace=" + NAMESPACE,
        "-jar", jar));
    cmd.addAll(List.of(args));
    File log = dir.resolve(name + ".log").toFile();
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log);
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
    pb.environment().put("KUBERNETES_SERVICE_HOST", "127.0.0.1");
    pb.environment().put("KUBERNETES_SERVICE_PORT", Integer.toString(api.port()));
    pb.environment().remove("SHARDSERVE_SEEDS");
    pb.environment().remove("SHARDSERVE_DISCOVERY");
    return pb.start();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
