package dev.shardserve.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shardserve.metrics.FamilyNames;
import dev.shardserve.metrics.MetricsSettings;
import dev.shardserve.metrics.ShardServeMetrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/prometheus and deploy/grafana: promtool accepts the scrape config and the rules, the
 * rules pass their unit tests, and every metric the dashboard and the rules query is a family the
 * code registers (so a renamed metric breaks the build, not the dashboard).
 */
class MonitoringConfigTest {
  static final Path PROMETHEUS = Path.of("prometheus");
  static final Path DASHBOARD = Path.of("grafana", "shardserve.json");
  /** Series Prometheus itself adds to every target. */
  static final Set<String> PROMETHEUS_SERIES = Set.of("up", "scrape_duration_seconds", "scrape_samples_scraped");

  @TempDir Path tmp;

  private static Promtool promtool() {
    Optional<Promtool> p = Promtool.find();
    assumeTrue(p.isPresent(), "promtool is not on the PATH (Debian package prometheus; .ci/run installs it): skipped");
    return p.get();
  }

  @Test
  void scrapeConfig_passesPromtoolCheckConfig() throws Exception {
    Promtool promtool = promtool();
    Path config = PROMETHEUS.resolve("prometheus.yml");
    Promtool.Result r = promtool.checkConfig(config);
    if (!r.ok() && r.output().contains("field kubernetes_sd_configs not found")) {
      // Debian's Prometheus is built without Kubernetes service discovery: check everything else.
      System.out.println("this promtool has no Kubernetes service discovery (Debian's build): the "
          + "shardserve-kubernetes job is checked only by a full Prometheus build; checking the rest");
      Path copy = tmp.resolve("prometheus.yml");
      Files.writeString(copy, withoutJob(Files.readString(config), "shardserve-kubernetes"));
      Files.copy(PROMETHEUS.resolve("alerts.yml"), tmp.resolve("alerts.yml"));
      r = promtool.checkConfig(copy);
    }
    assertTrue(r.ok(), r.output());
    assertTrue(r.output().contains("SUCCESS"), r.output());
  }

  @Test
  void alertRules_passPromtoolCheckRules() throws Exception {
    Promtool.Result r = promtool().checkRules(PROMETHEUS.resolve("alerts.yml"));
    assertTrue(r.ok(), r.output());
    assertTrue(r.output().contains("SUCCESS: 10 rules found"), r.output());
  }

  @Test
  void alertRules_passTheirUnitTests() throws Exception {
    Promtool.Result r = promtool().testRules(PROMETHEUS.resolve("alerts_test.yml"));
    assertTrue(r.ok(), r.output());
  }

  @Test
  void dashboardAndAlerts_queryOnlyMetricsTheCodeRegisters() throws Exception {
    Set<String> registered = FamilyNames.of(ShardServeMetrics.create(MetricsSettings.DEFAULT).registry().scrape());
    Map<String, Set<String>> unknown = new TreeMap<>();
    List<String> exprs = new ArrayList<>(dashboardExpressions());
    exprs.addAll(alertExpressions());
    assertTrue(exprs.size() > 30, "expressions found: " + exprs.size());
    for (String expr : exprs) {
      for (String name : PromqlNames.of(expr)) {
        if (!registered.contains(name) && !PROMETHEUS_SERIES.contains(name)) {
          unknown.computeIfAbsent(name, n -> new TreeSet<>()).add(expr);
        }
      }
    }
    assertTrue(unknown.isEmpty(), "queried but not registered: " + unknown);
  }

  @Test
  void dashboard_coversWhatAnOperatorNeeds() throws Exception {
    Set<String> queried = new TreeSet<>();
    for (String expr : dashboardExpressions()) {
      queried.addAll(PromqlNames.of(expr));
    }
    for (String family : List.of("shardserve_requests_total", "shardserve_request_duration_seconds_bucket",
        "shardserve_queue_duration_seconds_bucket", "shardserve_compute_duration_seconds_bucket",
        "shardserve_batch_size_sum", "shardserve_batch_size_count", "shardserve_batch_padding_rows_total",
        "shardserve_refused_total", "shardserve_retries_total", "shardserve_inflight_requests",
        "shardserve_admission_limit", "shardserve_model_version_state", "shardserve_model_load_duration_seconds_bucket",
        "shardserve_model_load_failures_total", "shardserve_cluster_members", "shardserve_replicas_hosted",
        "shardserve_replicas_desired", "process_resident_memory_bytes", "shardserve_memory_limit_bytes",
        "jvm_memory_used_bytes", "jvm_gc_collection_seconds_sum")) {
      assertTrue(queried.contains(family), family + " is on no panel");
    }
  }

  @Test
  void promqlNames_skipFunctionsLabelsStringsAndRanges() {
    assertEquals(Set.of("a_total", "b_seconds_bucket"), PromqlNames.of(
        "sum by (model, le) (rate(a_total{code=~\"5..|x\", model=\"$model\"}[$__rate_interval])) / on (job) "
            + "histogram_quantile(0.99, sum without (instance) (rate(b_seconds_bucket[5m] offset 1h)))"));
    assertEquals(Set.of("up"), PromqlNames.of("up{job=~\"shardserve.*\"} == 0"));
    assertEquals(Set.of("m"), PromqlNames.of("label_values(m, model)"));
  }

  private static List<String> dashboardExpressions() throws Exception {
    JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
    List<String> out = new ArrayList<>();
    collect(dashboard.get("panels"), out);
    for (JsonNode v : dashboard.at("/templating/list")) {
      if (v.has("definition")) {
        out.add(v.get("definition").asText());
      }
    }
    return out;
  }

  private static void collect(JsonNode panels, List<String> out) {
    for (JsonNode p : panels) {
      for (JsonNode t : p.path("targets")) {
        out.add(t.get("expr").asText());
      }
      collect(p.path("panels"), out);
    }
  }

  /** The {@code expr:} values of alerts.yml (block scalars and one-liners). */
  static List<String> alertExpressions() throws Exception {
    List<String> lines = Files.readAllLines(PROMETHEUS.resolve("alerts.yml"));
    List<String> out = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      int at = line.indexOf("expr:");
      if (at < 0 || line.trim().startsWith("#")) {
        continue;
      }
      String value = line.substring(at + 5).trim();
      if (!value.startsWith("|") && !value.startsWith(">")) {
        out.add(value);
        continue;
      }
      int indent = at;
      StringBuilder b = new StringBuilder();
      while (i + 1 < lines.size() && (lines.get(i + 1).isBlank()
          || lines.get(i + 1).length() - lines.get(i + 1).stripLeading().length() > indent)) {
        b.append(lines.get(++i).trim()).append('\n');
      }
      out.add(b.toString());
    }
    return out;
  }

  /** The config text without the scrape job {@code name} (from its "- job_name:" line to the next one). */
  static String withoutJob(String config, String name) {
    StringBuilder out = new StringBuilder();
    boolean skipping = false;
    for (String line : config.split("\n", -1)) {
      if (line.trim().startsWith("- job_name:")) {
        skipping = line.contains(name);
      }
      if (!skipping) {
        out.append(line).append('\n');
      }
    }
    return out.toString();
  }
}
