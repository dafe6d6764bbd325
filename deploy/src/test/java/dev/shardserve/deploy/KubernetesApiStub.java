package dev.shardserve.deploy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * The one call of the Kubernetes API that Akka's {@code kubernetes-api} discovery makes,
 * {@code GET /api/v1/namespaces/<ns>/pods?labelSelector=...} over HTTPS with a bearer token,
 * answered with a pod list of the given pods (all Running, each with a container port named
 * {@code management}). A request with another token, namespace or selector gets Kubernetes' 401,
 * 404 or an empty list. The certificate (for 127.0.0.1) is made with the JDK's keytool; its PEM
 * is what a pod finds at {@code /var/run/secrets/kubernetes.io/serviceaccount/ca.crt}.
 */
final class KubernetesApiStub implements AutoCloseable {
  /** A pod the stub lists: its IP and the ports of its one container, by name. */
  record Pod(String name, String ip, Map<String, Integer> ports) {}

  /** A request the stub answered: its path, selector and the status it got. */
  record Seen(String path, String labelSelector, int status) {}

  private final HttpsServer server;
  private final List<Seen> seen = new CopyOnWriteArrayList<>();
  final Path caPem;
  final Path tokenFile;

  private KubernetesApiStub(HttpsServer server, Path caPem, Path tokenFile) {
    this.server = server;
    this.caPem = caPem;
    this.tokenFile = tokenFile;
  }

  static KubernetesApiStub start(Path dir, String namespace, String token, String labelSelector, List<Pod> pods)
      throws Exception {
    Path keystore = dir.resolve("stub-api.p12");
    Path caPem = dir.resolve("ca.crt");
    String pass = "stub-pass";
    keytool("-genkeypair", "-alias", "api", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
        "-dname", "CN=kubernetes", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-keystore", keystore.toString(),
        "-storetype", "PKCS12", "-storepass", pass, "-keypass", pass);
    keytool("-exportcert", "-rfc", "-alias", "api", "-keystore", keystore.toString(), "-storetype", "PKCS12",
        "-storepass", pass, "-file", caPem.toString());
    Path tokenFile = Files.writeString(dir.resolve("token"), token);

    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keystore)) {
      ks.load(in, pass.toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, pass.toCharArray());
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(kmf.getKeyManagers(), null, null);

    HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(ssl));
    KubernetesApiStub stub = new KubernetesApiStub(server, caPem, tokenFile);
    byte[] podList = new ObjectMapper().writeValueAsBytes(podList(namespace, labelSelector, pods));
    byte[] emptyList = new ObjectMapper().writeValueAsBytes(podList(namespace, labelSelector, List.of()));
    String podsPath = "/api/v1/namespaces/" + namespace + "/pods";
    server.createContext("/", exchange -> {
      String selector = query(exchange, "labelSelector");
      String path = exchange.getRequestURI().getPath();
      int status;
      byte[] body;
      if (!("Bearer " + token).equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
        status = 401;
        body = "{\"kind\":\"Status\",\"code\":401,\"reason\":\"Unauthorized\"}".getBytes(StandardCharsets.UTF_8);
      } else if (!path.equals(podsPath) || !exchange.getRequestMethod().equals("GET")) {
        status = 404;
        body = "{\"kind\":\"Status\",\"code\":404,\"reason\":\"NotFound\"}".getBytes(StandardCharsets.UTF_8);
      } else {
        status = 200;
        body = labelSelector.equals(selector) ? podList : emptyList;
      }
      stub.seen.add(new Seen(path, selector, status));
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(status, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    return stub;
  }

  int port() {
    return server.getAddress().getPort();
  }

  List<Seen> seen() {
    return List.copyOf(seen);
  }

  @Override
  public void close() {
    server.stop(0);
  }

  private static Map<String, Object> podList(String namespace, String labelSelector, List<Pod> pods) {
    String[] label = labelSelector.split("=", 2);
    List<Object> items = new ArrayList<>();
    for (Pod pod : pods) {
      List<Object> ports = new ArrayList<>();
      pod.ports().forEach((name, port) -> ports.add(Map.of("name", name, "containerPort", port, "protocol", "TCP")));
      items.add(Map.of(
          "metadata", Map.of("name", pod.name(), "namespace", namespace, "labels", Map.of(label[0], label[1])),
          "spec", Map.of("containers", List.of(Map.of("name", "shardserve", "ports", ports))),
          "status", Map.of("phase", "Running", "podIP", pod.ip(),
              "containerStatuses", List.of(Map.of("name", "shardserve", "state", Map.of("running", Map.of())))),
          "kind", "Pod"));
    }
    return Map.of("kind", "PodList", "apiVersion", "v1", "items", items);
  }

  private static String query(HttpExchange exchange, String name) {
    String raw = exchange.getRequestURI().getRawQuery();
    if (raw == null) {
      return null;
    }
    for (String pair : raw.split("&")) {
      String[] kv = pair.split("=", 2);
      if (URLDecoder.decode(kv[0], StandardCharsets.UTF_8).equals(name) && kv.length == 2) {
        return URLDecoder.decode(kv[1], StandardCharsets.UTF_8);
      }
    }
    return null;
  }

  private static void keytool(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("keytool " + String.join(" ", args) + " failed: " + out);
    }
  }
}
