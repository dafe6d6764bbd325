package dev.shardserve.gateway.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.settings.ServerSettings;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real listeners on ephemeral ports: HTTPS, plain HTTP refused, mutual TLS, certificate rotation, the gate. */
class SecureListenerTest {
  @TempDir static Path dir;
  static DevCertificates.Issued ca;
  static DevCertificates.Issued otherCa;
  static ActorSystem<Void> tlsSystem;
  static ActorSystem<Void> mtlsSystem;
  static int tlsPort;
  static int mtlsPort;

  @BeforeAll
  static void start() throws Exception {
    ca = DevCertificates.certificateAuthority("test CA", Duration.ofDays(1));
    otherCa = DevCertificates.certificateAuthority("other CA", Duration.ofDays(1));
    writeServer(ca, dir.resolve("server.crt"), dir.resolve("server.key"));
    Files.writeString(dir.resolve("client-ca.crt"), ca.certificatePem());
    Files.writeString(dir.resolve("keys"), "app:infer:" + ApiKeys.hashHex("k1") + "\n");
    Map<String, Object> tls = new HashMap<>(Map.of(
        "shardserve.security.tls.cert-file", dir.resolve("server.crt").toString(),
        "shardserve.security.tls.key-file", dir.resolve("server.key").toString(),
        "shardserve.security.reload-interval", "200ms",
        "shardserve.security.api-keys-file", dir.resolve("keys").toString()));
    tlsSystem = system("tls", tls);
    tlsPort = bind(tlsSystem);
    writeServer(ca, dir.resolve("m-server.crt"), dir.resolve("m-server.key"));
    mtlsSystem = system("mtls", Map.of(
        "shardserve.security.tls.cert-file", dir.resolve("m-server.crt").toString(),
        "shardserve.security.tls.key-file", dir.resolve("m-server.key").toString(),
        "shardserve.security.tls.client-ca-file", dir.resolve("client-ca.crt").toString()));
    mtlsPort = bind(mtlsSystem);
  }

  @AfterAll
  static void stop() {
    for (ActorSystem<Void> s : new ActorSystem[] {tlsSystem, mtlsSystem}) {
      if (s != null) {
        s.terminate();
      }
    }
  }

  static void writeServer(DevCertificates.Issued issuer, Path cert, Path key) throws IOException {
    DevCertificates.Issued server = DevCertificates.issue(issuer, "localhost", List.of("localhost", "127.0.0.1"),
        DevCertificates.Usage.SERVER, Duration.ofDays(1));
    Files.writeString(key, server.keyPem());
    Files.writeString(cert, server.certificatePem() + issuer.certificatePem());
  }

  static ActorSystem<Void> system(String name, Map<String, Object> config) {
    return ActorSystem.create(Behaviors.empty(), name, ConfigFactory.parseMap(config)
        .withFallback(ConfigFactory.load()));
  }

  static int bind(ActorSystem<Void> system) throws Exception {
    ServerBinding b = SecureListener.bind(system, "test listener", Listener.INFERENCE, "127.0.0.1", 0,
        ServerSettings.create(system.classicSystem()),
        request -> CompletableFuture.completedFuture(HttpResponse.create().withEntity("ok")))
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    return b.localAddress().getPort();
  }

  static SSLContext client(DevCertificates.Issued trusted, DevCertificates.Issued clientCert) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", trusted.certificate());
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(trust);
    KeyManagerFactory kmf = null;
    if (clientCert != null) {
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry("client", clientCert.keys().getPrivate(), new char[0],
          new java.security.cert.Certificate[] {clientCert.certificate()});
      kmf = KeyManagerFactory.getInstance("PKIX");
      kmf.init(keys, new char[0]);
    }
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return ctx;
  }

  static java.net.http.HttpResponse<String> get(SSLContext ctx, int port, String path, String key) throws Exception {
    HttpClient c = HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5)).build();
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("https://localhost:" + port + path))
        .timeout(Duration.ofSeconds(30));
    if (key != null) {
      r.header("X-API-Key", key);
    }
    return c.send(r.build(), BodyHandlers.ofString());
  }

  @Test
  void https_withTrustedCa_andKey_answers() throws Exception {
    java.net.http.HttpResponse<String> r = get(client(ca, null), tlsPort, "/v1/models/m", "k1");
    assertEquals(200, r.statusCode());
    assertEquals("ok", r.body());
  }

  @Test
  void https_withoutKey_401_withBearerChallenge_andJsonError() throws Exception {
    java.net.http.HttpResponse<String> r = get(client(ca, null), tlsPort, "/v1/models/m:predict", null);
    assertEquals(401, r.statusCode());
    assertTrue(r.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"), r.headers().toString());
    assertTrue(r.body().startsWith("{\"error\":\"credentials required"), r.body());
    assertEquals(200, get(client(ca, null), tlsPort, "/v2/health/live", null).statusCode());
  }

  @Test
  void plainHttp_toTlsPort_getsNoHttpAnswer() throws Exception {
    try (Socket s = new Socket("127.0.0.1", tlsPort)) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write("GET /v2/health/live HTTP/1.1\r\nHost: localhost\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      byte[] got = readSome(s.getInputStream());
      String text = new String(got, StandardCharsets.ISO_8859_1);
      assertFalse(text.startsWith("HTTP/"), "plain HTTP must not be served, got " + text);
    }
  }

  @Test
  void serverEngines_offerTls12And13Only() {
    javax.net.ssl.SSLEngine e = Security.get(tlsSystem).tls().orElseThrow().newServerEngine();
    assertEquals(List.of("TLSv1.3", "TLSv1.2"), Arrays.asList(e.getSSLParameters().getProtocols()));
    assertTrue(Arrays.stream(e.getEnabledCipherSuites()).allMatch(c -> c.contains("GCM") || c.contains("CHACHA20")),
        Arrays.toString(e.getEnabledCipherSuites()));
  }

  @Test
  void untrustedServer_refusedByClient() {
    assertThrows(IOException.class, () -> get(client(otherCa, null), tlsPort, "/v2/health/live", null));
  }

  @Test
  void mutualTls_withoutClientCertificate_refused() {
    assertThrows(IOException.class, () -> get(client(ca, null), mtlsPort, "/v2/health/live", null));
  }

  @Test
  void mutualTls_clientCertificateFromAnotherCa_refused() {
    DevCertificates.Issued stranger = DevCertificates.issue(otherCa, "stranger", List.of(),
        DevCertificates.Usage.CLIENT, Duration.ofDays(1));
    assertThrows(IOException.class, () -> get(client(ca, stranger), mtlsPort, "/v2/health/live", null));
  }

  @Test
  void mutualTls_clientCertificateFromTheCa_answers() throws Exception {
    DevCertificates.Issued client = DevCertificates.issue(ca, "client", List.of(), DevCertificates.Usage.CLIENT,
        Duration.ofDays(1));
    assertEquals(200, get(client(ca, client), mtlsPort, "/v2/health/live", null).statusCode());
  }

  /**
   * Every new TLS 1.3 connection gets its answer. Before {@link StallFreeServerEngine}, about one
   * in five of these requests hung: Akka's TLS stage kept a request decrypted before the server's
   * post-handshake wrap (see {@link TlsContextTest}) and the client waited for the 30 s timeout.
   */
  @Test
  void mutualTls_manyNewConnections_allAnswered() throws Exception {
    DevCertificates.Issued client = DevCertificates.issue(ca, "client", List.of(), DevCertificates.Usage.CLIENT,
        Duration.ofDays(1));
    for (int i = 0; i < 25; i++) {
      assertEquals(200, get(client(ca, client), mtlsPort, "/v2/health/live", null).statusCode(), "connection " + i);
    }
  }

  @Test
  void rotatedCertificate_servedWithoutRestart_andAMismatchedPairIsRefused() throws Exception {
    Path cert = dir.resolve("rot.crt");
    Path key = dir.resolve("rot.key");
    writeServer(ca, cert, key);
    ActorSystem<Void> system = system("rotation", Map.of("shardserve.security.tls.cert-file", cert.toString(),
        "shardserve.security.tls.key-file", key.toString(), "shardserve.security.reload-interval", "200ms"));
    try {
      int port = bind(system);
      assertEquals(200, get(client(ca, null), port, "/x", null).statusCode());
      DevCertificates.Issued newCa = DevCertificates.certificateAuthority("rotated CA", Duration.ofDays(1));
      DevCertificates.Issued next = DevCertificates.issue(newCa, "localhost", List.of("localhost"),
          DevCertificates.Usage.SERVER, Duration.ofDays(1));
      // half a rotation (new certificate, old key) is not taken: the old pair keeps serving
      Files.writeString(cert, next.certificatePem());
      Security.get(system).refresh();
      assertEquals(200, get(client(ca, null), port, "/x", null).statusCode());
      Files.writeString(key, next.keyPem());
      Awaitility.await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
          .until(() -> get(client(newCa, null), port, "/x", null).statusCode() == 200);
      assertThrows(IOException.class, () -> get(client(ca, null), port, "/x", null));
    } finally {
      system.terminate();
    }
  }

  private static byte[] readSome(InputStream in) throws IOException {
    byte[] buf = new byte[64];
    int n;
    try {
      n = in.read(buf);
    } catch (IOException e) {
      return new byte[0]; // reset by the server: nothing served
    }
    return n <= 0 ? new byte[0] : Arrays.copyOf(buf, n);
  }
}
