package dev.shardserve.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shardserve.node.examples.HalfPlusTwoModel;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model repository extension on the admin listener (index, load, unload mapped onto the
 * desired state) and the server readiness rule, against a real server with a model that fails
 * to load.
 */
class V2RepositoryHttpTest {
  @TempDir static Path repo;
  static InProcessServer server;
  static final ObjectMapper JSON = new ObjectMapper();
  static final String INFER = "{\"inputs\":[{\"name\":\"x\",\"shape\":[2],\"datatype\":\"FP32\",\"data\":[1,2]}]}";

  @BeforeAll
  static void start() throws Exception {
    HalfPlusTwoModel.write(repo.resolve("half_plus_two/1"));
    Files.createDirectories(repo.resolve("corrupt/1"));
    Files.write(repo.resolve("corrupt/1/saved_model.pb"), new byte[] {1, 2, 3});
    server = new InProcessServer(repo, Map.of());
    await().atMost(Duration.ofSeconds(60)).until(() -> server.post("/v2/models/half_plus_two/infer", INFER)
        .statusCode() == 200);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static JsonNode entry(JsonNode index, String model) {
    for (JsonNode e : index) {
      if (e.get("name").asText().equals(model)) {
        return e;
      }
    }
    return null;
  }

  private static JsonNode index(String body) throws Exception {
    HttpResponse<String> r = server.admin("POST", "/v2/repository/index", body);
    assertEquals(200, r.statusCode(), r.body());
    return JSON.readTree(r.body());
  }

  @Test
  void index_listsEachModelVersionWithTritonStates() throws Exception {
    await().atMost(Duration.ofSeconds(30)).until(() -> entry(index(""), "corrupt") != null
        && entry(index(""), "corrupt").get("state").asText().equals("UNAVAILABLE"));
    JsonNode all = index("{}");
    JsonNode hpt = entry(all, "half_plus_two");
    assertEquals("1", hpt.get("version").asText());
    assertEquals("READY", hpt.get("state").asText());
    assertEquals("", hpt.get("reason").asText());
    JsonNode ready = index("{\"ready\": true}");
    assertEquals(null, entry(ready, "corrupt"), ready.toString());
    assertTrue(entry(ready, "half_plus_two") != null);
    assertEquals(400, server.admin("POST", "/v2/repository/index", "{\"ready\": 1}").statusCode());
  }

  @Test
  void unloadThenLoad_changesWhatIsServed() throws Exception {
    HttpResponse<String> unload = server.admin("POST", "/v2/repository/models/half_plus_two/unload", "");
    assertEquals(200, unload.statusCode(), unload.body());
    assertEquals("UNAVAILABLE", JSON.readTree(unload.body()).get("state").asText());
    await().atMost(Duration.ofSeconds(30)).until(() -> server.post("/v2/models/half_plus_two/infer", INFER)
        .statusCode() == 404);
    JsonNode gone = entry(index("{}"), "half_plus_two");
    assertEquals("UNAVAILABLE", gone.get("state").asText());
    assertEquals("unloaded", gone.get("reason").asText());

    HttpResponse<String> load = server.admin("POST", "/v2/repository/models/half_plus_two/load", "{}");
    assertEquals(200, load.statusCode(), load.body());
    assertEquals("{\"name\":\"half_plus_two\",\"version\":\"1\",\"state\":\"READY\"}", load.body());
    HttpResponse<String> r = server.post("/v2/models/half_plus_two/infer", INFER);
    assertEquals(200, r.statusCode(), "served as soon as load answers: " + r.body());
  }

  @Test
  void aModelThatFailsToLoad_keepsTheServerNotReady_untilItIsUnloaded() throws Exception {
    HttpResponse<String> notReady = server.get("/v2/health/ready");
    assertEquals(503, notReady.statusCode(), notReady.body());
    assertTrue(notReady.body().contains("corrupt"), notReady.body());
    assertEquals("1", notReady.headers().firstValue("Retry-After").orElse(""));
    assertEquals(503, server.get("/v2/models/corrupt/ready").statusCode());

    HttpResponse<String> load = server.admin("POST", "/v2/repository/models/corrupt/load", "");
    assertEquals(400, load.statusCode(), load.body());
    assertTrue(load.body().contains("failed to load 'corrupt'"), load.body());

    assertEquals(200, server.admin("POST", "/v2/repository/models/corrupt/unload",
        "{\"parameters\": {\"unload_dependents\": false}}").statusCode());
    await().atMost(Duration.ofSeconds(30)).until(() -> server.get("/v2/health/ready").statusCode() == 200);
    assertEquals(400, server.admin("POST", "/v2/repository/models/corrupt/load", "").statusCode());
    await().atMost(Duration.ofSeconds(30)).until(() -> server.get("/v2/health/ready").statusCode() == 503);
  }

  @Test
  void badRepositoryCalls_are4xx() throws Exception {
    HttpResponse<String> config = server.admin("POST", "/v2/repository/models/half_plus_two/load",
        "{\"parameters\": {\"config\": \"{}\"}}");
    assertEquals(400, config.statusCode());
    assertTrue(config.body().contains("PUT /admin/models/half_plus_two"), config.body());
    HttpResponse<String> unknown = server.admin("POST", "/v2/repository/models/nope/unload", "");
    assertEquals(404, unknown.statusCode());
    assertTrue(unknown.body().contains("nope"));
    assertEquals(405, server.admin("GET", "/v2/repository/index", null).statusCode());
    assertEquals(404, server.admin("POST", "/v2/repository/other", "").statusCode());
    assertEquals(400, server.admin("POST", "/v2/repository/index", "[1]").statusCode());
  }
}
