package dev.shardserve.gateway.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.http.javadsl.ServerBinding;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.metrics.Api;
import dev.shardserve.metrics.FamilyNames;
import dev.shardserve.metrics.MetricsSettings;
import dev.shardserve.metrics.ModelMetrics;
import dev.shardserve.metrics.Protocol;
import dev.shardserve.metrics.RefusalReason;
import dev.shardserve.metrics.ShardServeMetrics;
import dev.shardserve.settings.ShardServeConfig;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class MetricsEndpointTest {
  private static ActorTestKit testKit;
  private static int port;
  private static final HttpClient client = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    testKit = ActorTestKit.create("metrics-endpoint", ShardServeConfig.load(ConfigFactory.parseString(
        "akka.actor.provider = local\nshardserve.metrics.port = 0\nshardserve.metrics.host = 127.0.0.1")));
    ShardServeMetrics metrics = ShardServeMetrics.get(testKit.system());
    ModelMetrics m = metrics.model("half_plus_two");
    m.requestAnswered(Protocol.REST_V1, Api.PREDICT, 200, 1, 2_000_000);
    m.requestAnswered(Protocol.REST_V1, Api.PREDICT, 200, 1, 3_000_000);
    m.refused(RefusalReason.ADMISSION);
    m.batchRan(1, 0, 500_000);
    metrics.unknownModel().requestAnswered(Protocol.REST_V1, Api.PREDICT, 404, ModelMetrics.NO_VERSION, 100_000);
    MetricsSettings settings = MetricsSettings.fromConfig(testKit.system().settings().config().getConfig(
        "shardserve.metrics"));
    ServerBinding binding = MetricsListener.start(testKit.system(), settings).toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
    port = binding.localAddress().getPort();
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static HttpResponse<byte[]> get(String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(30));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return client.send(b.GET().build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static String text(HttpResponse<byte[]> r) {
    return new String(r.body(), StandardCharsets.UTF_8);
  }

  @Test
  void get_byDefault_isPrometheusTextWithTheRecordedSeries() throws Exception {
    HttpResponse<byte[]> r = get("/metrics");
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("Content-Type").orElseThrow().startsWith("text/plain; version=0.0.4"));
    String body = text(r);
    assertTrue(body.contains("shardserve_requests_total{api=\"predict\",code=\"200\",model=\"half_plus_two\","
        + "protocol=\"rest_v1\",version=\"1\"} 2.0"), body);
    assertTrue(body.contains("shardserve_requests_total{api=\"predict\",code=\"404\",model=\"\",protocol=\"rest_v1\","
        + "version=\"\"} 1.0"), body);
    assertTrue(body.contains("shardserve_refused_total{model=\"half_plus_two\",reason=\"admission\"} 1.0"), body);
    assertTrue(body.contains("shardserve_refused_total{model=\"half_plus_two\",reason=\"queue_full\"} 0.0"), body);
    assertTrue(body.contains("# TYPE shardserve_request_duration_seconds histogram"), body);
    assertTrue(body.contains("shardserve_batch_size_bucket{model=\"half_plus_two\",le=\"1.0\"} 1"), body);
    assertTrue(body.contains("jvm_memory_used_bytes"), body);
  }

  @Test
  void get_openMetricsAccepted_isOpenMetrics() throws Exception {
    HttpResponse<byte[]> r = get("/metrics", "Accept", "application/openmetrics-text; version=1.0.0; charset=utf-8");
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("Content-Type").orElseThrow().startsWith("application/openmetrics-text"));
    String body = text(r);
    assertTrue(body.endsWith("# EOF\n"), body.substring(Math.max(0, body.length() - 100)));
    assertTrue(body.contains("# UNIT shardserve_request_duration_seconds seconds"), body);
  }

  @Test
  void get_gzipAccepted_isCompressed() throws Exception {
    HttpResponse<byte[]> r = get("/metrics", "Accept-Encoding", "gzip, deflate");
    assertEquals(200, r.statusCode());
    assertEquals("gzip", r.headers().firstValue("Content-Encoding").orElseThrow());
    String body;
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(r.body()))) {
      body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertTrue(body.contains("shardserve_requests_total{"), body);
    assertTrue(r.body().length < body.length() / 3, "compressed " + r.body().length + " of " + body.length());
  }

  @Test
  void get_protobufAccepted_isTheDelimitedProtobufFormat() throws Exception {
    HttpResponse<byte[]> r = get("/metrics", "Accept",
        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,"
            + "text/plain;version=0.0.4;q=0.3");
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("Content-Type").orElseThrow().startsWith("application/vnd.google.protobuf"));
    assertTrue(r.body().length > 100);
  }

  @Test
  void otherPath_is404_andPost_is405() throws Exception {
    assertEquals(404, get("/v1/models/x").statusCode());
    HttpResponse<String> post = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
        .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(405, post.statusCode());
    assertEquals("GET", post.headers().firstValue("Allow").orElseThrow());
    assertTrue(post.body().contains("POST is not allowed on /metrics"), post.body());
  }

  @Test
  void familyNames_coverEverySampleNameOfTheTextExposition() throws Exception {
    Set<String> exposed = new TreeSet<>();
    for (String line : text(get("/metrics")).split("\n")) {
      if (!line.isEmpty() && !line.startsWith("#")) {
        int end = line.indexOf('{');
        exposed.add(line.substring(0, end >= 0 ? end : line.indexOf(' ')));
      }
    }
    Set<String> names = FamilyNames.of(ShardServeMetrics.get(testKit.system()).registry().scrape());
    Set<String> missing = new TreeSet<>(exposed);
    missing.removeAll(names);
    assertTrue(missing.isEmpty(), "exposed but not in FamilyNames: " + missing);
    assertTrue(exposed.contains("shardserve_requests_total"));
  }

  @Test
  void acceptsGzip_readsQualities() {
    assertTrue(MetricsEndpoint.acceptsGzip("gzip"));
    assertTrue(MetricsEndpoint.acceptsGzip("deflate, gzip;q=0.5"));
    assertTrue(MetricsEndpoint.acceptsGzip("*"));
    assertFalse(MetricsEndpoint.acceptsGzip(""));
    assertFalse(MetricsEndpoint.acceptsGzip("gzip;q=0"));
    assertFalse(MetricsEndpoint.acceptsGzip("identity, br"));
  }
}
