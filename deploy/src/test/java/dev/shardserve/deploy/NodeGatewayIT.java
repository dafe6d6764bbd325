package dev.shardserve.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shardserve.node.examples.HalfPlusTwoModel;
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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code node} and a {@code gateway} as separate JVM processes of the built jar: a predict
 * goes through the gateway to the entity on the node (Kryo over Artery), with a small tensor
 * and with a ~1 MiB one (larger than Artery's default 256 KiB frame).
 */
class NodeGatewayIT {
  @TempDir static Path dir;
  static final List<Process> processes = new ArrayList<>();
  static final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  static int httpPort;
  static int adminPort;

  @BeforeAll
  static void startCluster() throws Exception {
    Path repo = dir.resolve("models");
    HalfPlusTwoModel.write(repo.resolve("half_plus_two/1"));
    int nodeArtery = freePort();
    int gatewayArtery = freePort();
    httpPort = freePort();
    String seed = "127.0.0.1:" + nodeArtery;
    adminPort = freePort();
    // The gateway holds the model config file (TF Serving's format) and seeds the desired state.
    Path config = dir.resolve("models.config");
    java.nio.file.Files.writeString(config, "model_config_list { config { name: 'half_plus_two' base_path: '"
        + repo.resolve("half_plus_two") + "' } }");
    processes.add(start("node", "node", "--seed", seed, "--artery-port", Integer.toString(nodeArtery),
        "--model-repo", repo.toString(), "--data-dir", dir.resolve("node-data").toString(),
        "--admin-port", Integer.toString(freePort()), "--management-port", Integer.toString(freePort()),
        "--metrics-port", "0", "--metrics-host", "127.0.0.1"));
    processes.add(start("gateway", "gateway", "--seed", seed, "--artery-port", Integer.toString(gatewayArtery),
        "--port", Integer.toString(httpPort), "--host", "127.0.0.1", "--admin-port", Integer.toString(adminPort),
        "--grpc-port", "0",
        "--data-dir", dir.resolve("gateway-data").toString(), "--model-config", config.toString(),
        "--repository-root", repo.toString(),
        "--management-port", Integer.toString(freePort()), "--metrics-port", "0", "--metrics-host", "127.0.0.1"));
    // The gateway answers once it has joined and the node's model catalog has reached it.
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).ignoreExceptions()
        .until(() -> predict("{\"instances\": [1.0]}").statusCode() == 200);
  }

  @AfterAll
  static void stopCluster() throws Exception {
    for (Process p : processes) {
      p.destroy();
    }
    for (Process p : processes) {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
  }

  private static Process start(String name, String... args) throws IOException {
    String jar = System.getProperty("shardserve.jar", "target/shardserve.jar");
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m", "-jar", jar));
    cmd.addAll(List.of(args));
    File log = dir.resolve(name + ".log").toFile();
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log);
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
    return pb.start();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static HttpResponse<String> predict(String body) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort
            + "/v1/models/half_plus_two:predict")).timeout(Duration.ofSeconds(60))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void smallPredict_crossesJvms() throws Exception {
    HttpResponse<String> r = predict("{\"instances\": [1.0, 2.0, 5.0]}");
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("{\"predictions\":[2.5,3.0,4.5]}", r.body());
  }

  @Test
  void oneMebibyteTensor_crossesJvmsBothWays() throws Exception {
    int n = 256 * 1024; // 1 MiB of float32 out; the request travels as 2 MiB of float64
    StringBuilder body = new StringBuilder(n * 6).append("{\"inputs\": [");
    for (int i = 0; i < n; i++) {
      body.append(i == 0 ? "" : ",").append(i % 100).append(".5");
    }
    body.append("]}");
    HttpResponse<String> r = predict(body.toString());
    assertEquals(200, r.statusCode(), r.body().length() > 300 ? r.body().substring(0, 300) : r.body());
    try (JsonParser p = new ObjectMapper().getFactory().createParser(r.body())) {
      assertEquals(JsonToken.START_OBJECT, p.nextToken());
      assertEquals("outputs", p.nextFieldName());
      assertEquals(JsonToken.START_ARRAY, p.nextToken());
      int i = 0;
      while (p.nextToken() != JsonToken.END_ARRAY) {
        float expected = 0.5f * (i % 100 + 0.5f) + 2f;
        assertEquals(expected, p.getFloatValue(), 1e-6, "element " + i);
        i++;
      }
      assertEquals(n, i);
    }
  }

  @Test
  void statusAndUnknownModel_crossJvms() throws Exception {
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort
        + "/v1/models/half_plus_two")).GET().build(), HttpResponse.BodyHandlers.ofString());
    assertTrue(r.body().contains("\"AVAILABLE\""), r.body());
    HttpResponse<String> missing = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort
            + "/v1/models/missing:predict")).POST(HttpRequest.BodyPublishers.ofString("{\"instances\": [1]}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(404, missing.statusCode());
  }

  @Test
  void adminLabel_setOnTheGateway_isServedByTheNodeProcess() throws Exception {
    HttpResponse<String> r = client.send(java.net.http.HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + adminPort + "/admin/models/half_plus_two/labels/stable"))
        .timeout(Duration.ofSeconds(30)).PUT(java.net.http.HttpRequest.BodyPublishers.ofString("{\"version\": 1}"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> client.send(
        java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort
            + "/v1/models/half_plus_two/labels/stable:predict")).timeout(Duration.ofSeconds(30))
            .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"instances\": [1.0]}")).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode() == 200);
    // The desired state is durable on the gateway's disk (LMDB through the jar's Add-Opens).
    assertTrue(java.nio.file.Files.exists(dir.resolve("gateway-data/desired-state/data.mdb")));
  }
}
