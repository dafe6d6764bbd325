package dev.shardserve.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.ServerBinding;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.node.NodeSettings;
import dev.shardserve.node.WorkerNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A node's own admin listener: its status says when the model repository cannot be listed. */
class NodeAdminTest {
  static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path tmp;

  @Test
  void nodeStatus_reportsARepositoryThatCannotBeListed_untilItCanAgain() throws Exception {
    Path repo = Files.createDirectories(tmp.resolve("models"));
    ActorSystem<Void> system = Processes.system(ConfigFactory.parseMap(Map.of(
        "akka.remote.artery.canonical.port", 0,
        "akka.cluster.roles", List.of("worker"),
        "shardserve.node.model-repository", repo.toString(),
        "shardserve.node.repository-poll-interval", "100ms")));
    try {
      Processes.joinSelf(system);
      ServerBinding binding = Processes.await(NodeAdmin.start(system, "127.0.0.1", 0), "bind");
      Processes.await(WorkerNode.start(system, NodeSettings.fromConfig(system.settings().config())), "catalog");
      HttpClient client = HttpClient.newHttpClient();
      URI uri = URI.create("http://127.0.0.1:" + binding.localAddress().getPort() + "/admin/node");
      java.util.concurrent.Callable<JsonNode> status = () -> JSON.readTree(client.send(
          HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString()).body());

      assertTrue(status.call().get("repository_error").isNull(), status.call().toString());
      Files.move(repo, tmp.resolve("unmounted"));
      await().atMost(Duration.ofSeconds(10)).until(() -> !status.call().get("repository_error").isNull());
      assertTrue(status.call().get("repository_error").asText().contains("NoSuchFileException"),
          status.call().toString());
      Files.move(tmp.resolve("unmounted"), repo);
      await().atMost(Duration.ofSeconds(10)).until(() -> status.call().get("repository_error").isNull());
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }

  @Test
  void quoted_escapesWhatJsonNeeds() throws Exception {
    String text = "a \"b\" c:\\d\n\u0001";
    assertEquals(text, JSON.readTree(NodeAdmin.quoted(text)).asText());
  }
}
