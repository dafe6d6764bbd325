package dev.shardserve.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The cluster options of node and gateway: discovery and the application version. */
class ClusterOptionsTest {
  static ClusterOptions parse(String... args) {
    NodeCommand node = new NodeCommand();
    new CommandLine(node).parseArgs(args);
    return node.cluster;
  }

  @Test
  void seeds_byDefault_joinTheSeedNodes() {
    Config c = parse("--seed", "10.0.0.1:25520").config("node", List.of("worker"));
    assertEquals(List.of("akka://shardserve@10.0.0.1:25520"), c.getStringList("akka.cluster.seed-nodes"));
    assertFalse(c.hasPath("akka.management.cluster.bootstrap.contact-point-discovery.discovery-method"));
  }

  @Test
  void kubernetesApi_configuresBootstrap_withRawPodIps_andTheManagementPortName() {
    Config c = parse("--discovery", "kubernetes-api").config("node", List.of("worker"));
    String discovery = "akka.management.cluster.bootstrap.contact-point-discovery.";
    assertEquals("kubernetes-api", c.getString(discovery + "discovery-method"));
    assertEquals("management", c.getString(discovery + "port-name"));
    assertEquals("shardserve", c.getString(discovery + "service-name"));
    assertTrue(c.getBoolean("akka.discovery.kubernetes-api.use-raw-ip"));
    assertFalse(c.hasPath("akka.cluster.seed-nodes"));
  }

  @Test
  void kubernetesApi_withSeeds_isRefused() {
    var e = assertThrows(IllegalArgumentException.class,
        () -> parse("--discovery", "kubernetes-api", "--seed", "a:1").config("node", List.of("worker")));
    assertTrue(e.getMessage().contains("--seed"), e.getMessage());
  }

  @Test
  void seeds_withoutAnySeed_isRefusedNamingBothWays() {
    var e = assertThrows(IllegalArgumentException.class, () -> parse().config("node", List.of("worker")));
    assertTrue(e.getMessage().contains("--seed") && e.getMessage().contains("kubernetes-api"), e.getMessage());
  }

  @Test
  void unknownDiscovery_isRefusedNamingTheValue() {
    var e = assertThrows(IllegalArgumentException.class,
        () -> parse("--discovery", "dns", "--seed", "a:1").config("node", List.of("worker")));
    assertTrue(e.getMessage().contains("'dns'"), e.getMessage());
  }

  @Test
  void appVersion_becomesAkkasAppVersion() {
    Config c = parse("--seed", "a:1", "--app-version", "1.4.0-rc2").config("node", List.of("worker"));
    assertEquals("1.4.0-rc2", c.getString("akka.cluster.app-version"));
  }

  @Test
  void appVersion_thatIsNoVersionNumber_isRefusedNamingIt() {
    var e = assertThrows(IllegalArgumentException.class,
        () -> parse("--seed", "a:1", "--app-version", "latest").config("node", List.of("worker")));
    assertTrue(e.getMessage().contains("'latest'"), e.getMessage());
  }
}
