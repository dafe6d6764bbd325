package dev.shardserve.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shardserve.node.examples.HalfPlusTwoModel;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Separate JVMs from the built jar, set up as the README's secure set-up: {@code shardserve certs},
 * then a gateway (HTTPS, API keys, cluster TLS) and a node with the cluster's certificates, which
 * joins and serves; a node whose certificates come from another CA never becomes a member.
 */
class ClusterTlsIT {
  @TempDir static Path dir;
  static final List<Process> processes = new ArrayList<>();
  static int httpPort;
  static int managementPort;
  static int strangerArtery;
  static HttpClient https;
  static String apiKey;

  @BeforeAll
  static void startCluster() throws Exception {
    Path certs = dir.resolve("certs");
    Path otherCerts = dir.resolve("other-certs");
    assertEquals(0, run("certs", "certs", "--out", certs.toString(), "--hosts", "localhost"));
    assertEquals(0, run("other-certs", "certs", "--out", otherCerts.toString()));
    apiKey = Files.readString(certs.resolve("api-key")).strip();
    Path repo = dir.resolve("models");
    HalfPlusTwoModel.write(repo.resolve("half_plus_two/1"));
    int gatewayArtery = freePort();
    httpPort = freePort();
    managementPort = freePort();
    String seed = "127.0.0.1:" + gatewayArtery;
    processes.add(start("gateway", "gateway", "--seed", seed, "--artery-port", Integer.toString(gatewayArtery),
        "--port", Integer.toString(httpPort), "--host", "127.0.0.1", "--admin-port", Integer.toString(freePort()),
        "--management-port", Integer.toString(managementPort), "--data-dir", dir.resolve("gw-data").toString(),
        "--tls-cert", certs.resolve("server.crt").toString(), "--tls-key", certs.resolve("server.key").toString(),
        "--api-keys", certs.resolve("api-keys").toString(), "--cluster-tls-dir", certs.resolve("cluster").toString()));
    processes.add(start("node", "node", "--seed", seed, "--artery-port", Integer.toString(freePort()),
        "--model-repo", repo.toString(), "--data-dir", dir.resolve("node-data").toString(),
        "--admin-port", Integer.toString(freePort()), "--management-port", Integer.toString(freePort()),
        "--cluster-tls-dir", certs.resolve("cluster").toString()));
    strangerArtery = freePort();
    processes.add(start("stranger", "node", "--seed", seed, "--artery-port", Integer.toString(strangerArtery),
        "--model-repo", repo.toString(), "--data-dir", dir.resolve("stranger-data").toString(),
        "--admin-port", Integer.toString(freePort()), "--management-port", Integer.toString(freePort()),
        "--cluster-tls-dir", otherCerts.resolve("cluster").toString()));
    https = HttpClient.newBuilder().sslContext(trusting(certs.resolve("ca.crt")))
        .connectTimeout(Duration.ofSeconds(5)).build();
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
        .until(() -> predict(apiKey).statusCode() == 200);
  }

  @AfterAll
  static void stopCluster() throws Exception {
    for (Process p : processes) {
      p.destroy();
    }
    for (Process p : processes) {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
  }

  @Test
  void nodeWithTheClusterCertificate_joinsAndServes_overHttpsWithAKey() throws Exception {
    HttpResponse<String> r = predict(apiKey);
    assertEquals("{\"predictions\":[2.5,3.0,4.5]}", r.body());
    assertEquals(401, predict(null).statusCode());
  }

  @Test
  void nodeWithAnotherCasCertificate_neverJoins() throws Exception {
    // bounded: 15 s of gossip and join retries (every few seconds) without the stranger appearing
    await().during(Duration.ofSeconds(15)).atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofSeconds(1))
        .until(() -> {
          String members = members();
          return members.contains("\"status\":\"Up\"") && !members.contains(":" + strangerArtery);
        });
    String members = members();
    assertFalse(members.contains(":" + strangerArtery), members);
    assertEquals(2, members.split("\"status\":\"Up\"", -1).length - 1, members);
  }

  @Test
  void strangerLogsTheRefusedHandshake() {
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      String log = Files.readString(dir.resolve("stranger.log"));
      return log.contains("SSLHandshakeException") || log.contains("PKIX") || log.contains("certificate_unknown")
          || log.contains("bad_certificate");
    });
  }

  private static String members() throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort
        + "/cluster/members")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  private static HttpResponse<String> predict(String key) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://localhost:" + httpPort
            + "/v1/models/half_plus_two:predict")).timeout(Duration.ofSeconds(60))
        .POST(HttpRequest.BodyPublishers.ofString("{\"instances\": [1.0, 2.0, 5.0]}"));
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return https.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static SSLContext trusting(Path caPem) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    try (InputStream in = Files.newInputStream(caPem)) {
      ks.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(ks);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }

  private static int run(String name, String... args) throws Exception {
    Process p = start(name, args);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), name + " did not finish");
    return p.exitValue();
  }

  private static Process start(String name, String... args) throws IOException {
    String jar = System.getProperty("shardserve.jar", "target/shardserve.jar");
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx384m", "-jar", jar));
    cmd.addAll(List.of(args));
    File log = dir.resolve(name + ".log").toFile();
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log);
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
    return pb.start();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
