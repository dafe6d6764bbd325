package dev.shardserve.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shardserve.node.testing.TfServingTestData;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A TF Serving deployment moves over unchanged: TF Serving's own {@code model_config_list} file
 * (protobuf text) serving TF Serving's test models. Skipped when the test data is absent.
 */
class TfServingModelConfigTest {
  @TempDir static Path tmp;
  static InProcessServer server;
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void start() throws Exception {
    Path counter = TfServingTestData.require("saved_model_counter");
    Path twoVersions = TfServingTestData.require("saved_model_half_plus_two_2_versions");
    Path config = tmp.resolve("models.config");
    Files.writeString(config, """
        model_config_list {
          config {
            name: 'half_plus_two'
            base_path: '%s'
            model_platform: 'tensorflow'
            model_version_policy { all {} }
            version_labels { key: 'stable' value: 123 }
          }
          config { name: 'counter' base_path: '%s' }
        }
        """.formatted(twoVersions, counter));
    // stateful is not in TF Serving's format: it is set through the admin API below.
    server = new InProcessServer(Files.createDirectories(tmp.resolve("empty-repo")),
        Map.of("shardserve.model-config", config.toString(),
            "shardserve.repository-roots", List.of(counter.getParent().toString(), twoVersions.getParent().toString())));
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void policyAll_loadsBothVersions_andEachAnswersAtItsPath() throws Exception {
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      String s = server.get("/v1/models/half_plus_two").body();
      return s.contains("\"version\":\"123\"") && s.contains("\"version\":\"124\"")
          && s.split("AVAILABLE", -1).length == 3;
    });
    for (String v : List.of("123", "124")) {
      HttpResponse<String> r = server.post("/v1/models/half_plus_two/versions/" + v + ":predict",
          "{\"instances\": [1.0, 2.0, 5.0]}");
      assertEquals(200, r.statusCode(), r.body());
      assertEquals(v, r.headers().firstValue("X-Model-Version").orElse(""));
      assertEquals("[2.5,3.0,4.5]", JSON.readTree(r.body()).get("predictions").toString());
    }
    HttpResponse<String> r = server.post("/v1/models/half_plus_two/labels/stable:predict", "{\"instances\": [1.0]}");
    assertEquals("123", r.headers().firstValue("X-Model-Version").orElse(""), r.body());
    assertEquals("124", server.post("/v1/models/half_plus_two:predict", "{\"instances\": [1.0]}")
        .headers().firstValue("X-Model-Version").orElse(""));
  }

  @Test
  void statefulCounter_answersExactlyUnderConcurrentCalls() throws Exception {
    HttpResponse<String> set = server.admin("PUT", "/admin/models/counter", "{\"stateful\": true}");
    assertEquals(200, set.statusCode(), set.body());
    assertEquals(400, server.admin("PUT", "/admin/models/counter", "{\"replicas\": 2}").statusCode(),
        "a stateful model has exactly one replica");
    await().atMost(Duration.ofSeconds(60)).until(() -> server.get("/v1/models/counter").body().contains("AVAILABLE"));
    int before = counter("get_counter", null);
    int clients = 4;
    int each = 25;
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    List<Future<List<Integer>>> futures = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      futures.add(pool.submit(() -> {
        List<Integer> seen = new ArrayList<>();
        for (int i = 0; i < each; i++) {
          seen.add(counter("incr_counter_by", 1));
        }
        return seen;
      }));
    }
    Set<Integer> answers = new TreeSet<>();
    int count = 0;
    for (Future<List<Integer>> f : futures) {
      List<Integer> got = f.get(120, TimeUnit.SECONDS);
      answers.addAll(got);
      count += got.size();
    }
    pool.shutdown();
    Set<Integer> expected = new TreeSet<>();
    for (int i = 1; i <= clients * each; i++) {
      expected.add(before + i);
    }
    assertEquals(clients * each, count);
    assertEquals(expected, answers, "every increment answered once, with a distinct value");
    assertEquals(before + clients * each, counter("get_counter", null));
  }

  private static int counter(String signature, Integer delta) throws Exception {
    String body = delta == null
        ? "{\"signature_name\": \"" + signature + "\", \"inputs\": {}}"
        : "{\"signature_name\": \"" + signature + "\", \"inputs\": {\"delta\": " + delta + "}}";
    HttpResponse<String> r = server.post("/v1/models/counter:predict", body);
    assertEquals(200, r.statusCode(), r.body());
    var out = JSON.readTree(r.body()).get("outputs");
    assertTrue(out != null && out.isNumber(), r.body());
    return (int) Math.round(out.asDouble());
  }
}
