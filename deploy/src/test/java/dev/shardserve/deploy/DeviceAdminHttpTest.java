package dev.shardserve.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shardserve.node.testing.SimulatedModels;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A simulated model served over HTTP by a standalone server, and a model's {@code device} in the
 * admin API: {@code gpu} refused while no node has role {@code gpu}, accepted on a node that has
 * it (a fake GPU: the role and capacity are configured, as {@code node --gpus 0} would set them).
 */
class DeviceAdminHttpTest {
  @TempDir Path tmp;
  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void aSimulatedModelAnswers_andDeviceGpuIsRefusedWithoutAGpuNode() throws Exception {
    Path repo = tmp.resolve("repo");
    SimulatedModels.write(repo.resolve("sim/1"), 2, 500, 10, 16, 1);
    try (InProcessServer server = new InProcessServer(repo, Map.of())) {
      await().atMost(Duration.ofSeconds(60)).until(() -> server.post("/v1/models/sim:predict",
          "{\"instances\": [[1.5, -2.0]]}").statusCode() == 200);
      HttpResponse<String> r = server.post("/v1/models/sim:predict", "{\"instances\": [[1.5, -2.0], [3.0, 4.0]]}");
      assertEquals(200, r.statusCode(), r.body());
      assertEquals(JSON.readTree("{\"predictions\": [[1.5, -2.0], [3.0, 4.0]]}"), JSON.readTree(r.body()));
      HttpResponse<String> meta = server.get("/v1/models/sim/metadata");
      assertTrue(meta.body().contains("\"dtype\":\"DT_FLOAT\""), meta.body());

      HttpResponse<String> gpu = server.admin("PUT", "/admin/models/sim", "{\"device\": \"gpu\"}");
      assertEquals(400, gpu.statusCode(), gpu.body());
      assertTrue(gpu.body().contains("device = gpu and no worker node with role gpu is up"), gpu.body());
      HttpResponse<String> bad = server.admin("PUT", "/admin/models/sim", "{\"device\": \"tpu\"}");
      assertEquals(400, bad.statusCode(), bad.body());
      assertTrue(bad.body().contains("device must be \\\"gpu\\\", \\\"cpu\\\" or \\\"any\\\", was \\\"tpu\\\""),
          bad.body());
      HttpResponse<String> cpu = server.admin("PUT", "/admin/models/sim", "{\"device\": \"cpu\"}");
      assertEquals(200, cpu.statusCode(), cpu.body());
      assertEquals("cpu", model(server, "sim").get("device").asText());
    }
  }

  @Test
  void onANodeWithRoleGpu_deviceGpuIsAccepted_andTheModelServes() throws Exception {
    Path repo = tmp.resolve("repo-gpu");
    SimulatedModels.write(repo.resolve("sim/1"), 2, 500, 10, 16, 1);
    try (InProcessServer server = new InProcessServer(repo, Map.of(
        "akka.cluster.roles", List.of("worker", "gateway", "gpu"),
        "shardserve.node.capacity.gpus", 1))) {
      await().atMost(Duration.ofSeconds(60)).until(() -> server.admin("PUT", "/admin/models/sim",
          "{\"device\": \"gpu\"}").statusCode() == 200);
      assertEquals("gpu", model(server, "sim").get("device").asText());
      await().atMost(Duration.ofSeconds(60)).until(() -> server.post("/v1/models/sim:predict",
          "{\"instances\": [[1.0, 2.0]]}").statusCode() == 200);
      HttpResponse<String> nodes = server.admin("GET", "/admin/nodes", "");
      assertTrue(nodes.body().contains("\"gpu\""), nodes.body());
    }
  }

  private static JsonNode model(InProcessServer server, String name) throws Exception {
    HttpResponse<String> r = server.admin("GET", "/admin/models/" + name, "");
    assertEquals(200, r.statusCode(), r.body());
    JsonNode n = JSON.readTree(r.body());
    return n.has("spec") ? n.get("spec") : n;
  }
}
