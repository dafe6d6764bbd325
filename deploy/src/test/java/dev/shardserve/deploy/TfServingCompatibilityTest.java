package dev.shardserve.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TF Serving's own test SavedModels served through the REST API, with the answers TF Serving
 * gives. The repository is {@code ../shared/testdata/tfserving} itself; skipped when absent.
 */
class TfServingCompatibilityTest {
  static InProcessServer server;
  static Path root;
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void start() {
    root = Path.of(System.getProperty("shardserve.testdata.dir", "../../shared/testdata"))
        .resolve("tfserving").toAbsolutePath().normalize();
    assumeTrue(Files.isDirectory(root), "TF Serving test data not found at " + root + ": compatibility tests skipped");
    server = new InProcessServer(root, Map.of());
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  private static String predict(String model, String body) throws Exception {
    HttpResponse<String> r = server.post("/v1/models/" + model + ":predict", body);
    assertEquals(200, r.statusCode(), model + ": " + r.body());
    return r.body();
  }

  @Test
  void halfPlusTwoCpu_predict() throws Exception {
    assertEquals("{\"predictions\":[2.5,3.0,4.5]}",
        predict("saved_model_half_plus_two_cpu", "{\"instances\": [1.0, 2.0, 5.0]}"));
  }

  @Test
  void halfPlusTwoCpu_regressAndClassify() throws Exception {
    HttpResponse<String> r = server.post("/v1/models/saved_model_half_plus_two_cpu:regress",
        "{\"signature_name\": \"regress_x_to_y\", \"examples\": [{\"x\": 80.0}]}");
    assertEquals("{\"results\":[42.0]}", r.body());
    r = server.post("/v1/models/saved_model_half_plus_two_cpu:classify",
        "{\"signature_name\": \"classify_x_to_y\", \"examples\": [{\"x\": 20.0}]}");
    assertEquals("{\"results\":[[[\"\",12.0]]]}", r.body());
  }

  @Test
  void halfPlusTwoTf2Cpu_predict() throws Exception {
    assertEquals("{\"predictions\":[2.5]}", predict("saved_model_half_plus_two_tf2_cpu", "{\"instances\": [1.0]}"));
  }

  @Test
  void halfPlusThree_predict() throws Exception {
    assertEquals("{\"predictions\":[3.5,4.0,5.5]}",
        predict("saved_model_half_plus_three", "{\"instances\": [1.0, 2.0, 5.0]}"));
  }

  @Test
  void halfPlusTwoGpu_servedOnCpu() throws Exception {
    assertEquals("{\"predictions\":[2.5,3.0]}", predict("saved_model_half_plus_two_gpu", "{\"instances\": [1, 2]}"));
  }

  @Test
  void matrixHalfPlusTwo_predict() throws Exception {
    assertEquals("{\"predictions\":[[[2.5,3.0,3.5],[4.0,4.5,5.0],[5.5,6.0,6.5]]]}",
        predict("matrix_half_plus_two", "{\"instances\": [[[1,2,3],[4,5,6],[7,8,9]]]}"));
  }

  @Test
  void twoVersions_metadataMatchesTfServingsAnswer() throws Exception {
    Path expectedFile = root.resolve("expected/saved_model_half_plus_two_2_versions_metadata.json");
    HttpResponse<String> r = server.get("/v1/models/saved_model_half_plus_two_2_versions/metadata");
    assertEquals(200, r.statusCode(), r.body());
    JsonNode ours = JSON.readTree(r.body());
    JsonNode expected = JSON.readTree(expectedFile.toFile());
    // TF Serving's file was taken with version 123 loaded; the newest (124) has the same signatures.
    assertEquals("124", ours.get("model_spec").get("version").asText());
    assertEquals(expected.get("metadata"), ours.get("metadata"));
    assertEquals(expected.get("model_spec").get("name"), ours.get("model_spec").get("name"));
  }
}
