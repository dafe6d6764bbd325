package dev.shardserve.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * deploy/compose.yaml: valid for Debian's docker-compose ({@code docker-compose config}, skipped
 * with a message where it is not installed), three nodes and a gateway that join one seed, only
 * variables shardserve reads, and Prometheus and Grafana wired to the observability files.
 */
class ComposeFileTest {
  static final Path COMPOSE = Path.of("compose.yaml");

  /** The compose file with its YAML merge keys ({@code <<: *anchor}) resolved, which Jackson's YAML reader does not do. */
  static JsonNode compose() throws IOException {
    Object tree = new org.yaml.snakeyaml.Yaml().load(Files.readString(COMPOSE));
    return new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(tree);
  }

  static List<String> shardserveServices(JsonNode compose) {
    List<String> names = new ArrayList<>();
    compose.path("services").fields().forEachRemaining(e -> {
      String command = e.getValue().path("command").path(0).asText();
      if (command.equals("node") || command.equals("gateway")) {
        names.add(e.getKey());
      }
    });
    return names;
  }

  @Test
  void dockerCompose_acceptsTheFile() throws Exception {
    Process p;
    try {
      p = new ProcessBuilder("docker-compose", "-f", COMPOSE.toString(), "config", "-q")
          .redirectErrorStream(true).start();
    } catch (IOException notInstalled) {
      Assumptions.abort("docker-compose is not installed (Debian package docker-compose): compose.yaml not validated");
      return;
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "docker-compose config finishes");
    assertEquals(0, p.exitValue(), "docker-compose config: " + out);
  }

  @Test
  void threeNodesAndAGateway_joinTheFirstNodeAsSeed() throws Exception {
    JsonNode compose = compose();
    List<String> services = shardserveServices(compose);
    assertEquals(List.of("node1", "node2", "node3", "gateway"), services);
    int artery = Integer.parseInt(CliEnvironment.defaultOf("node", "--artery-port"));
    for (String s : services) {
      JsonNode env = compose.path("services").path(s).path("environment");
      assertEquals(s, env.path("SHARDSERVE_HOSTNAME").asText(), s + " is reached at its service name");
      assertEquals("node1:" + artery, env.path("SHARDSERVE_SEEDS").asText(), s);
    }
    assertEquals("node", compose.path("services").path("node1").path("command").path(0).asText());
  }

  @Test
  void everyEnvironmentVariable_isOneTheCliReads() throws Exception {
    Set<String> read = CliEnvironment.names();
    JsonNode compose = compose();
    Set<String> set = new TreeSet<>();
    for (String s : shardserveServices(compose)) {
      compose.path("services").path(s).path("environment").fieldNames().forEachRemaining(set::add);
    }
    assertTrue(set.contains("SHARDSERVE_SEEDS"), "YAML merge keys were resolved: " + set);
    for (String variable : set) {
      assertTrue(read.contains(variable), variable + " is not read by shardserve; it reads " + read);
    }
  }

  @Test
  void prometheusAndGrafana_useTheObservabilityFiles_andTheProvisionedDataSource() throws Exception {
    JsonNode services = compose().path("services");
    String prometheus = services.path("prometheus").toString();
    assertTrue(prometheus.contains("./prometheus:/etc/prometheus"), prometheus);
    assertTrue(prometheus.contains("--config.file=/etc/prometheus/prometheus.yml"), prometheus);
    String grafana = services.path("grafana").toString();
    assertTrue(grafana.contains("./grafana/shardserve.json:/var/lib/grafana/dashboards/shardserve.json"), grafana);
    assertTrue(grafana.contains("./grafana/provisioning:/etc/grafana/provisioning"), grafana);
    JsonNode datasource = Manifests.YAML.readTree(
        Files.readString(Path.of("grafana/provisioning/datasources/prometheus.yaml"))).path("datasources").path(0);
    assertEquals("http://prometheus:9090", datasource.path("url").asText());
    JsonNode provider = Manifests.YAML.readTree(
        Files.readString(Path.of("grafana/provisioning/dashboards/shardserve.yaml"))).path("providers").path(0);
    assertEquals("/var/lib/grafana/dashboards", provider.path("options").path("path").asText());
  }
}
