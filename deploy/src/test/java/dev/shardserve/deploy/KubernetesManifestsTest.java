package dev.shardserve.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import dev.shardserve.settings.ShardServeConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Kubernetes manifests of deploy/k8s (the base and each overlay), rendered by
 * {@code kubectl kustomize} where kubectl exists (parsed from the YAML files otherwise), hold the
 * invariants that make bootstrap and zero-error rollouts work, checked against the application
 * itself: its command line, its configuration and its health paths.
 */
class KubernetesManifestsTest {
  static final Path K8S = Path.of("k8s");
  static final Config CONFIG = ShardServeConfig.load();

  /** The drain: shardserve.drain-timeout (Coordinated Shutdown's phases are derived from it). */
  static Duration drain() {
    return dev.shardserve.settings.DrainTimeout.fromConfig(CONFIG).value();
  }

  static Manifests render(String variant) throws Exception {
    return Manifests.render(K8S.resolve(variant));
  }

  static List<JsonNode> shardserveDeployments(Manifests m) {
    List<JsonNode> d = m.ofKind("Deployment").stream()
        .filter(o -> o.path("spec").path("template").path("metadata").path("labels").path("app").asText()
            .equals(ClusterDiscovery.SERVICE_NAME)).toList();
    assertEquals(2, d.size(), "a worker and a gateway Deployment");
    return d;
  }

  static JsonNode container(JsonNode deployment) {
    JsonNode containers = deployment.path("spec").path("template").path("spec").path("containers");
    for (JsonNode c : containers) {
      if (c.path("name").asText().equals("shardserve")) {
        return c;
      }
    }
    throw new AssertionError("no container shardserve in " + name(deployment));
  }

  static String name(JsonNode o) {
    return o.path("metadata").path("name").asText();
  }

  static String subcommand(JsonNode container) {
    return container.path("args").path(0).asText();
  }

  static Map<String, JsonNode> env(JsonNode container) {
    Map<String, JsonNode> env = new HashMap<>();
    container.path("env").forEach(e -> env.put(e.path("name").asText(), e));
    return env;
  }

  static int containerPort(JsonNode container, String portName) {
    for (JsonNode p : container.path("ports")) {
      if (p.path("name").asText().equals(portName)) {
        return p.path("containerPort").asInt();
      }
    }
    throw new AssertionError("no container port named " + portName + " in " + container.path("ports"));
  }

  /** The port the process listens on for an option: the manifest's variable if set, else the option's default. */
  static int listenPort(JsonNode container, String option) {
    String command = subcommand(container);
    String variable = CliEnvironment.variableOf(command, option).orElseThrow();
    JsonNode set = env(container).get(variable);
    return Integer.parseInt(set != null ? set.path("value").asText() : CliEnvironment.defaultOf(command, option));
  }

  static boolean selects(JsonNode matchLabels, JsonNode labels) {
    var it = matchLabels.fields();
    while (it.hasNext()) {
      var e = it.next();
      if (!e.getValue().asText().equals(labels.path(e.getKey()).asText(null))) {
        return false;
      }
    }
    return matchLabels.size() > 0;
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "overlays/gpu", "overlays/tls"})
  void probes_areOnTheManagementPort_atTheAppsHealthPaths(String variant) throws Exception {
    for (JsonNode d : shardserveDeployments(render(variant))) {
      JsonNode c = container(d);
      assertEquals(listenPort(c, "--management-port"), containerPort(c, ClusterDiscovery.MANAGEMENT_PORT_NAME),
          name(d) + ": the port named management is where Akka Management listens");
      String ready = "/" + CONFIG.getString("akka.management.health-checks.readiness-path");
      String alive = "/" + CONFIG.getString("akka.management.health-checks.liveness-path");
      assertEquals(ready, c.path("readinessProbe").path("httpGet").path("path").asText(), name(d));
      assertEquals(alive, c.path("livenessProbe").path("httpGet").path("path").asText(), name(d));
      assertEquals(alive, c.path("startupProbe").path("httpGet").path("path").asText(), name(d));
      for (String probe : List.of("readinessProbe", "livenessProbe", "startupProbe")) {
        assertEquals("management", c.path(probe).path("httpGet").path("port").asText(), name(d) + " " + probe);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "overlays/gpu", "overlays/tls"})
  void bootstrap_kubernetesApiDiscovery_onThePodAddress_withTheLabelItLooksFor(String variant) throws Exception {
    String selector = CONFIG.getString("akka.discovery.kubernetes-api.pod-label-selector")
        .replace("%s", ClusterDiscovery.SERVICE_NAME);
    String[] label = selector.split("=", 2);
    for (JsonNode d : shardserveDeployments(render(variant))) {
      JsonNode c = container(d);
      Map<String, JsonNode> env = env(c);
      assertEquals(ClusterDiscovery.KUBERNETES_API,
          ClusterDiscovery.parse(env.get(CliEnvironment.variableOf(subcommand(c), "--discovery").orElseThrow())
              .path("value").asText()), name(d));
      for (String option : List.of("--hostname", "--management-host")) {
        String variable = CliEnvironment.variableOf(subcommand(c), option).orElseThrow();
        assertEquals("status.podIP", env.get(variable).path("valueFrom").path("fieldRef").path("fieldPath").asText(),
            name(d) + ": " + variable + " must be the pod's address, not loopback");
      }
      assertEquals(label[1], d.path("spec").path("template").path("metadata").path("labels").path(label[0]).asText(),
          name(d) + " pods carry " + selector);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "overlays/gpu", "overlays/tls"})
  void rbac_everyPodsServiceAccount_mayGetWatchListPods(String variant) throws Exception {
    Manifests m = render(variant);
    for (JsonNode d : shardserveDeployments(m)) {
      String sa = d.path("spec").path("template").path("spec").path("serviceAccountName").asText();
      String ns = d.path("metadata").path("namespace").asText();
      assertNotNull(m.named("ServiceAccount", sa));
      boolean granted = false;
      for (JsonNode binding : m.ofKind("RoleBinding")) {
        boolean boundToSa = false;
        for (JsonNode s : binding.path("subjects")) {
          boundToSa |= s.path("kind").asText().equals("ServiceAccount") && s.path("name").asText().equals(sa)
              && s.path("namespace").asText().equals(ns);
        }
        if (!boundToSa || !binding.path("roleRef").path("kind").asText().equals("Role")) {
          continue;
        }
        JsonNode role = m.named("Role", binding.path("roleRef").path("name").asText());
        for (JsonNode rule : role.path("rules")) {
          Set<String> verbs = new TreeSet<>();
          rule.path("verbs").forEach(v -> verbs.add(v.asText()));
          boolean pods = false;
          for (JsonNode r : rule.path("resources")) {
            pods |= r.asText().equals("pods");
          }
          boolean core = false;
          for (JsonNode g : rule.path("apiGroups")) {
            core |= g.asText().isEmpty();
          }
          granted |= pods && core && verbs.containsAll(List.of("get", "watch", "list"));
        }
      }
      assertTrue(granted, name(d) + ": ServiceAccount " + sa + " needs a Role with pods get/watch/list");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "overlays/gpu", "overlays/tls"})
  void shutdown_gracePeriodCoversPreStopAndDrain_andRollsOneAtATime(String variant) throws Exception {
    for (JsonNode d : shardserveDeployments(render(variant))) {
      JsonNode pod = d.path("spec").path("template").path("spec");
      JsonNode preStop = container(d).path("lifecycle").path("preStop");
      long preStopSeconds;
      if (preStop.has("sleep")) {
        preStopSeconds = preStop.path("sleep").path("seconds").asLong();
      } else {
        JsonNode command = preStop.path("exec").path("command");
        assertEquals("sleep", command.path(0).asText(), name(d) + " preStop " + preStop);
        preStopSeconds = Long.parseLong(command.path(1).asText());
      }
      assertTrue(preStopSeconds > 0, name(d) + " has a preStop pause");
      long grace = pod.path("terminationGracePeriodSeconds").asLong();
      // the drain's phase lasts the drain timeout + its margin; leaving the cluster takes more seconds
      long needed = preStopSeconds + drain().plus(dev.shardserve.settings.DrainTimeout.MARGIN).toSeconds() + 10;
      assertTrue(grace >= needed, name(d) + ": terminationGracePeriodSeconds " + grace + " < preStop "
          + preStopSeconds + " s + drain " + drain().toSeconds() + " s + margin + 10 s to leave the cluster");
      JsonNode rolling = d.path("spec").path("strategy").path("rollingUpdate");
      assertEquals("RollingUpdate", d.path("spec").path("strategy").path("type").asText(), name(d));
      assertEquals(1, rolling.path("maxSurge").asInt(-1), name(d));
      assertEquals(0, rolling.path("maxUnavailable").asInt(-1), name(d));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "overlays/gpu", "overlays/tls"})
  void pdb_selectsTheWorkersOnly_oneUnavailableAtATime(String variant) throws Exception {
    Manifests m = render(variant);
    JsonNode pdb = m.named("PodDisruptionBudget", "shardserve-worker");
    assertEquals(1, pdb.path("spec").path("maxUnavailable").asInt(-1));
    JsonNode selector = pdb.path("spec").path("selector").path("matchLabels");
    for (JsonNode d : shardserveDeployments(m)) {
      boolean worker = subcommand(container(d)).equals("node");
      assertEquals(worker, selects(selector, d.path("spec").path("template").path("metadata").path("labels")),
          "the PDB selects " + name(d) + "'s pods exactly when they are workers");
      assertTrue(selects(d.path("spec").path("selector").path("matchLabels"),
          d.path("spec").path("template").path("metadata").path("labels")), name(d) + " selects its own pods");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "overlays/gpu", "overlays/tls"})
  void services_selectPods_withTheirNamedPorts_andPrometheusAnnotations(String variant) throws Exception {
    Manifests m = render(variant);
    JsonNode gateway = m.named("Service", "shardserve");
    Map<Integer, String> ports = new HashMap<>();
    gateway.path("spec").path("ports").forEach(p -> ports.put(p.path("port").asInt(), p.path("targetPort").asText()));
    assertEquals(Map.of(8500, "grpc", 8501, "http"), ports, "TF Serving's ports on the gateway Service");
    JsonNode metrics = m.named("Service", "shardserve-metrics");
    assertEquals("true", metrics.path("metadata").path("annotations").path("prometheus.io/scrape").asText());
    assertEquals("8503", metrics.path("metadata").path("annotations").path("prometheus.io/port").asText());
    assertEquals(8503, metrics.path("spec").path("ports").path(0).path("port").asInt());
    for (JsonNode service : List.of(gateway, metrics)) {
      int matched = 0;
      for (JsonNode d : shardserveDeployments(m)) {
        if (!selects(service.path("spec").path("selector"), d.path("spec").path("template").path("metadata").path("labels"))) {
          continue;
        }
        matched++;
        for (JsonNode p : service.path("spec").path("ports")) {
          containerPort(container(d), p.path("targetPort").asText());
        }
        JsonNode annotations = d.path("spec").path("template").path("metadata").path("annotations");
        assertEquals("8503", annotations.path("prometheus.io/port").asText(), name(d) + " pods are scraped on 8503");
        assertEquals(8503, containerPort(container(d), "metrics"));
      }
      assertTrue(matched > 0, name(service) + " selects some shardserve pods");
    }
    JsonNode gatewayContainer = container(m.named("Deployment", "shardserve-gateway"));
    assertEquals(listenPort(gatewayContainer, "--port"), containerPort(gatewayContainer, "http"),
        "the gateway's inference port is where the Service sends HTTP");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "overlays/gpu", "overlays/tls"})
  void everyEnvironmentVariable_isOneTheCliReads(String variant) throws Exception {
    Manifests m = render(variant);
    Set<String> read = CliEnvironment.names();
    List<JsonNode> containers = new ArrayList<>();
    for (String kind : List.of("Deployment", "Job")) {
      for (JsonNode o : m.ofKind(kind)) {
        o.path("spec").path("template").path("spec").path("containers").forEach(containers::add);
      }
    }
    m.unappliedPatches().forEach(p -> p.path("spec").path("template").path("spec").path("containers")
        .forEach(containers::add));
    assertFalse(containers.isEmpty());
    for (JsonNode c : containers) {
      for (String variable : env(c).keySet()) {
        assertTrue(read.contains(variable), variable + " (container " + c.path("name").asText()
            + ") is not read by shardserve; it reads " + read);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "overlays/gpu", "overlays/tls"})
  void everyPod_hasResources_andSubcommandsThatExist(String variant) throws Exception {
    Set<String> subcommands = new picocli.CommandLine(new ShardServe()).getSubcommands().keySet();
    for (JsonNode d : shardserveDeployments(render(variant))) {
      JsonNode c = container(d);
      assertTrue(subcommands.contains(subcommand(c)), name(d) + " runs " + subcommand(c));
      assertFalse(c.path("resources").path("requests").path("memory").asText().isEmpty(), name(d));
      assertFalse(c.path("resources").path("requests").path("cpu").asText().isEmpty(), name(d));
      assertFalse(c.path("resources").path("limits").path("memory").asText().isEmpty(), name(d));
      assertTrue(d.path("spec").path("template").path("spec").path("securityContext").path("runAsNonRoot").asBoolean(),
          name(d) + " runs as non-root");
    }
  }

  @Test
  void workers_mountTheModelVolumeReadOnly_whereTheyReadTheRepository() throws Exception {
    Manifests m = render("");
    JsonNode worker = m.named("Deployment", "shardserve-worker");
    JsonNode c = container(worker);
    String repo = env(c).get(CliEnvironment.variableOf("node", "--model-repo").orElseThrow()).path("value").asText();
    JsonNode mount = null;
    for (JsonNode vm : c.path("volumeMounts")) {
      if (vm.path("mountPath").asText().equals(repo)) {
        mount = vm;
      }
    }
    assertNotNull(mount, "a volume at the model repository " + repo);
    assertTrue(mount.path("readOnly").asBoolean(), "workers only read the repository");
    String claim = null;
    for (JsonNode v : worker.path("spec").path("template").path("spec").path("volumes")) {
      if (v.path("name").asText().equals(mount.path("name").asText())) {
        claim = v.path("persistentVolumeClaim").path("claimName").asText();
      }
    }
    assertNotNull(m.named("PersistentVolumeClaim", claim));
  }

  @Test
  void gpuOverlay_putsWorkersOnGpuNodes_withOneGpuEach() throws Exception {
    Manifests m = render("overlays/gpu");
    JsonNode pod = m.renderedByKubectl()
        ? m.named("Deployment", "shardserve-worker").path("spec").path("template").path("spec")
        : m.unappliedPatches().get(0).path("spec").path("template").path("spec");
    assertFalse(pod.path("nodeSelector").isEmpty(), "a node selector for the GPU pool");
    JsonNode resources = pod.path("containers").path(0).path("resources");
    if (m.renderedByKubectl()) {
      resources = container(m.named("Deployment", "shardserve-worker")).path("resources");
      JsonNode gateway = m.named("Deployment", "shardserve-gateway").path("spec").path("template").path("spec");
      assertTrue(gateway.path("nodeSelector").isMissingNode(), "gateways stay off the GPU pool");
    }
    assertEquals("1", resources.path("limits").path("nvidia.com/gpu").asText());
  }

  @Test
  void tlsOverlay_mountsTheSecrets_andTheSecurityOptionsReadThem() throws Exception {
    Manifests m = render("overlays/tls");
    List<JsonNode> pods = new ArrayList<>();
    if (m.renderedByKubectl()) {
      shardserveDeployments(m).forEach(d -> pods.add(d.path("spec").path("template").path("spec")));
    } else {
      pods.add(m.unappliedPatches().get(0).path("spec").path("template").path("spec"));
    }
    Map<String, String> expected = Map.of("/etc/shardserve/tls", "shardserve-tls",
        "/etc/shardserve/cluster-tls", "shardserve-cluster-tls");
    for (JsonNode pod : pods) {
      Map<String, String> secretsByVolume = new HashMap<>();
      pod.path("volumes").forEach(v -> secretsByVolume.put(v.path("name").asText(),
          v.path("secret").path("secretName").asText()));
      Map<String, String> mounted = new HashMap<>();
      for (JsonNode c : pod.path("containers")) {
        Map<String, String> env = new HashMap<>();
        c.path("env").forEach(e -> env.put(e.path("name").asText(), e.path("value").asText()));
        assertEquals("/etc/shardserve/tls/tls.crt", env.get("SHARDSERVE_TLS_CERT"), "the options read the mounts");
        assertEquals("/etc/shardserve/tls/tls.key", env.get("SHARDSERVE_TLS_KEY"));
        assertEquals("/etc/shardserve/cluster-tls", env.get("SHARDSERVE_CLUSTER_TLS_DIR"));
        c.path("volumeMounts").forEach(vm -> {
          if (expected.containsKey(vm.path("mountPath").asText())) {
            assertTrue(vm.path("readOnly").asBoolean());
            mounted.put(vm.path("mountPath").asText(), secretsByVolume.get(vm.path("name").asText()));
          }
        });
      }
      assertEquals(expected, mounted);
    }
  }
}
