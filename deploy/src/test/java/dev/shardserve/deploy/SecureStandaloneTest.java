package dev.shardserve.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shardserve.desired.DesiredStateStore;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.gateway.security.ApiKeys;
import dev.shardserve.gateway.security.FailureReason;
import dev.shardserve.gateway.security.Security;
import dev.shardserve.node.examples.HalfPlusTwoModel;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A standalone server with API keys: scopes per API on the real listeners (inference, gateway
 * admin, node admin), the admin write guard, and base_path confined to the repository roots.
 */
class SecureStandaloneTest {
  @TempDir static Path tmp;
  static InProcessServer server;
  static int nodeAdminPort;

  @BeforeAll
  static void start() throws Exception {
    Path repo = Files.createDirectories(tmp.resolve("repo"));
    HalfPlusTwoModel.write(repo.resolve("half_plus_two/1"));
    Files.createDirectories(tmp.resolve("outside"));
    Path keys = Files.writeString(tmp.resolve("keys"), String.join("\n",
        "app:infer:" + ApiKeys.hashHex("k-infer"),
        "ops:admin:" + ApiKeys.hashHex("k-admin"),
        "hpt:infer:" + ApiKeys.hashHex("k-hpt") + ":half_plus_two",
        "other:infer:" + ApiKeys.hashHex("k-other") + ":mlp",
        "mon:metrics:" + ApiKeys.hashHex("k-mon"), ""));
    server = new InProcessServer(repo, Map.of("shardserve.security.api-keys-file", keys.toString(),
        "shardserve.metrics.port", 0, "shardserve.metrics.host", "127.0.0.1"));
    nodeAdminPort = Processes.await(NodeAdmin.start(server.system, "127.0.0.1", 0), "node admin")
        .localAddress().getPort();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static HttpResponse<String> call(int port, String method, String path, String body, String... headers)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return server.send(b);
  }

  static HttpResponse<String> predict(String... headers) throws Exception {
    return call(server.port, "POST", "/v1/models/half_plus_two:predict", "{\"instances\": [1.0]}", headers);
  }

  @Test
  void inference_needsInfer_401WithChallenge_403WithoutScope() throws Exception {
    HttpResponse<String> none = predict();
    assertEquals(401, none.statusCode());
    assertTrue(none.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"));
    assertTrue(none.body().startsWith("{\"error\":"), none.body());
    assertEquals(401, predict("Authorization", "Bearer wrong").statusCode());
    assertEquals(403, predict("X-API-Key", "k-admin").statusCode());
    HttpResponse<String> ok = predict("Authorization", "Bearer k-infer");
    assertEquals(200, ok.statusCode(), ok.body());
    assertEquals(401, call(server.port, "GET", "/v1/models/half_plus_two", null).statusCode());
  }

  @Test
  void modelRestrictedKeys_reachOnlyTheirModels() throws Exception {
    assertEquals(200, predict("X-API-Key", "k-hpt").statusCode());
    HttpResponse<String> r = predict("X-API-Key", "k-other");
    assertEquals(403, r.statusCode());
    assertTrue(r.body().contains("half_plus_two"), r.body());
  }

  @Test
  void gatewayAdmin_needsAdmin() throws Exception {
    assertEquals(401, call(server.adminPort, "GET", "/admin/models", null).statusCode());
    assertEquals(403, call(server.adminPort, "GET", "/admin/models", null, "X-API-Key", "k-infer").statusCode());
    assertEquals(200, call(server.adminPort, "GET", "/admin/models", null, "X-API-Key", "k-admin").statusCode());
  }

  @Test
  void nodeAdmin_needsAdmin() throws Exception {
    assertEquals(401, call(nodeAdminPort, "GET", "/admin/node", null).statusCode());
    assertEquals(200, call(nodeAdminPort, "GET", "/admin/node", null, "X-API-Key", "k-admin").statusCode());
  }

  @Test
  void adminWrites_forgeableByABrowser_refused_evenWithAKey() throws Exception {
    HttpResponse<String> text = call(server.adminPort, "POST", "/admin/models/half_plus_two/load", "{}",
        "X-API-Key", "k-admin", "Content-Type", "text/plain");
    assertEquals(415, text.statusCode());
    assertTrue(text.body().contains("text/plain"), text.body());
    HttpResponse<String> form = call(nodeAdminPort, "POST", "/admin/drain", "a=b",
        "X-API-Key", "k-admin", "Content-Type", "application/x-www-form-urlencoded");
    assertEquals(415, form.statusCode(), "a form post must not drain the node");
    HttpResponse<String> origin = call(nodeAdminPort, "POST", "/admin/drain", null,
        "X-API-Key", "k-admin", "Origin", "http://evil.example");
    assertEquals(403, origin.statusCode());
    assertTrue(origin.body().contains("http://evil.example"), origin.body());
    assertEquals(403, call(server.adminPort, "POST", "/admin/reload-config", null, "X-API-Key", "k-admin",
        "Sec-Fetch-Site", "cross-site").statusCode());
    assertTrue(call(server.adminPort, "GET", "/admin/models", null, "X-API-Key", "k-admin").headers()
        .map().keySet().stream().noneMatch(h -> h.toLowerCase().startsWith("access-control")), "no CORS headers");
  }

  @Test
  void adminWrite_fromTheListenersOwnOrigin_withJson_passes() throws Exception {
    HttpResponse<String> r = call(server.adminPort, "PUT", "/admin/models/half_plus_two", "{\"replicas\": 1}",
        "X-API-Key", "k-admin", "Content-Type", "application/json", "Origin", "http://127.0.0.1:" + server.adminPort);
    assertEquals(200, r.statusCode(), r.body());
  }

  @Test
  void adminJsonWrite_basePathEscapes_400NamingPathAndRoots() throws Exception {
    for (String escape : List.of("../outside", tmp.resolve("outside").toString(), "half_plus_two/../../outside")) {
      HttpResponse<String> r = call(server.adminPort, "PUT", "/admin/models/escapee",
          "{\"base_path\": \"" + escape + "\"}", "X-API-Key", "k-admin", "Content-Type", "application/json");
      assertEquals(400, r.statusCode(), r.body());
      assertTrue(r.body().contains("outside the repository roots") && r.body().contains("repo"), r.body());
    }
  }

  @Test
  void aDesiredStateWrittenAroundTheAdminApi_stillReadsNothingOutsideTheRoots() throws Exception {
    HalfPlusTwoModel.write(tmp.resolve("repo/escapee_inside/1"));
    HalfPlusTwoModel.write(tmp.resolve("outside/2"));
    HalfPlusTwoModel.write(tmp.resolve("repo/copy_inside/1"));
    // straight into the replicated desired state, as a gateway with other settings could write it
    DesiredStateStore store = new DesiredStateStore(server.system, Duration.ofSeconds(10));
    Processes.await(store.update(d -> d.with("escapee", ModelSpec.DEFAULT.withBasePath("escapee_inside"))),
        "desired state");
    await().atMost(Duration.ofSeconds(60)).until(() -> status("escapee").contains("\"version\":\"1\",\"state\":"
        + "\"AVAILABLE\""));
    // both entities see this change together; 'control' loading from scratch bounds the time that
    // 'escapee' would need to list outside/ and start loading its version 2
    Processes.await(store.update(d -> d
        .with("escapee", ModelSpec.DEFAULT.withBasePath(tmp.resolve("outside").toString()))
        .with("control", ModelSpec.DEFAULT.withBasePath("copy_inside"))), "desired state");
    await().atMost(Duration.ofSeconds(60)).until(() -> call(server.port, "POST", "/v1/models/control:predict",
        "{\"instances\": [1.0]}", "X-API-Key", "k-infer").statusCode() == 200);
    String escapee = status("escapee");
    assertFalse(escapee.contains("\"version\":\"2\""), "nothing is read from outside the roots: " + escapee);
    assertTrue(escapee.contains("\"version\":\"1\",\"state\":\"AVAILABLE\""),
        "the refused change leaves what was served: " + escapee);
  }

  static String status(String model) throws Exception {
    return call(server.port, "GET", "/v1/models/" + model, null, "X-API-Key", "k-infer").body();
  }

  @Test
  void metricsListener_needsTheMetricsScope_andCountsRefusalsByReason() throws Exception {
    assertEquals(401, call(server.metricsPort, "GET", "/metrics", null).statusCode());
    assertEquals(403, call(server.metricsPort, "GET", "/metrics", null, "X-API-Key", "k-infer").statusCode());
    predict("X-API-Key", "k-admin"); // a 403 for the scope
    HttpResponse<String> r = call(server.metricsPort, "GET", "/metrics", null, "X-API-Key", "k-mon");
    assertEquals(200, r.statusCode(), r.body());
    for (FailureReason reason : FailureReason.values()) {
      assertTrue(r.body().contains("shardserve_auth_failures_total{reason=\"" + reason.label() + "\"}"),
          "every reason from 0: " + reason);
    }
    assertTrue(r.body().lines().anyMatch(l -> l.startsWith("shardserve_auth_failures_total{reason=\"scope\"}")
        && !l.endsWith(" 0.0") && !l.endsWith(" 0")), r.body());
  }

  @Test
  void failures_areCounted() throws Exception {
    long before = Security.get(server.system).failures().count(FailureReason.MISSING);
    predict();
    assertEquals(before + 1, Security.get(server.system).failures().count(FailureReason.MISSING));
  }
}
