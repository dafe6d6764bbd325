package dev.shardserve.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shardserve.gateway.admin.AdminApi;
import dev.shardserve.gateway.admin.RepositoryApi;
import dev.shardserve.gateway.kserve.KServeApi;
import dev.shardserve.gateway.openapi.ApiRoute;
import dev.shardserve.gateway.openapi.OpenApiDocument;
import dev.shardserve.gateway.tfserving.TfServingApi;
import dev.shardserve.node.examples.HalfPlusTwoModel;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OpenAPI documents served at {@code GET /openapi.json} name exactly the routes each
 * listener binds: every documented route is answered by its handler on the real server (not by
 * the "no such route" or "method not allowed" answers), every route an API class serves is
 * documented, and every other method on a documented path is refused as no route.
 */
class OpenApiRoutesTest {
  @TempDir static Path repo;
  static InProcessServer server;
  static final ObjectMapper JSON = new ObjectMapper();
  static final Pattern PARAM = Pattern.compile("\\{([a-z_]+)}");
  static final List<String> METHODS = List.of("GET", "POST", "PUT", "DELETE");

  @BeforeAll
  static void start() {
    HalfPlusTwoModel.write(repo.resolve("half_plus_two/1"));
    server = new InProcessServer(repo, Map.of());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static URI inference(String path) {
    return server.uri(path);
  }

  private static URI admin(String path) {
    return URI.create("http://127.0.0.1:" + server.adminPort + path);
  }

  private static JsonNode document(URI uri) throws Exception {
    HttpResponse<String> r = server.client.send(HttpRequest.newBuilder(uri).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
    JsonNode doc = JSON.readTree(r.body());
    assertEquals("3.0.3", doc.get("openapi").asText());
    return doc;
  }

  private static Set<String> documented(JsonNode doc) {
    Set<String> out = new TreeSet<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = doc.get("paths").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> p = it.next();
      for (Iterator<String> m = p.getValue().fieldNames(); m.hasNext(); ) {
        out.add(m.next().toUpperCase() + " " + p.getKey());
      }
    }
    return out;
  }

  private static Set<String> names(List<ApiRoute> routes) {
    Set<String> out = new TreeSet<>();
    routes.forEach(r -> out.add(r.toString()));
    return out;
  }

  private static Set<String> inferenceRoutes() {
    List<ApiRoute> all = new ArrayList<>(TfServingApi.ROUTES);
    all.addAll(KServeApi.ROUTES);
    all.add(OpenApiDocument.ROUTE);
    return names(all);
  }

  private static Set<String> adminRoutes() {
    List<ApiRoute> all = new ArrayList<>(AdminApi.ROUTES);
    all.addAll(RepositoryApi.ROUTES);
    all.add(OpenApiDocument.ROUTE);
    return names(all);
  }

  @Test
  void inferenceDocument_namesExactlyTheRoutesTheApisServe() throws Exception {
    assertSameRoutes(inferenceRoutes(), documented(document(inference(OpenApiDocument.PATH))));
  }

  @Test
  void adminDocument_namesExactlyTheRoutesTheApisServe() throws Exception {
    assertSameRoutes(adminRoutes(), documented(document(admin(OpenApiDocument.PATH))));
  }

  private static void assertSameRoutes(Set<String> served, Set<String> documented) {
    Set<String> undocumented = new TreeSet<>(served);
    undocumented.removeAll(documented);
    Set<String> absent = new TreeSet<>(documented);
    absent.removeAll(served);
    assertTrue(undocumented.isEmpty(), "served but missing from the document: " + undocumented);
    assertTrue(absent.isEmpty(), "documented but not served: " + absent);
  }

  @Test
  void everyDocumentedInferenceRoute_isAnsweredByItsHandler_andNoOtherMethodIs() throws Exception {
    walk(document(inference(OpenApiDocument.PATH)), OpenApiRoutesTest::inference);
  }

  @Test
  void everyDocumentedAdminRoute_isAnsweredByItsHandler_andNoOtherMethodIs() throws Exception {
    walk(document(admin(OpenApiDocument.PATH)), OpenApiRoutesTest::admin);
  }

  @Test
  void documents_areWellFormed_everyRefResolves_everyPathParameterDeclared() throws Exception {
    for (JsonNode doc : List.of(document(inference(OpenApiDocument.PATH)), document(admin(OpenApiDocument.PATH)))) {
      List<String> problems = new ArrayList<>();
      refs(doc, doc, "", problems);
      for (Iterator<Map.Entry<String, JsonNode>> it = doc.get("paths").fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> p = it.next();
        Set<String> inPath = new TreeSet<>();
        Matcher m = PARAM.matcher(p.getKey());
        while (m.find()) {
          inPath.add(m.group(1));
        }
        for (Iterator<Map.Entry<String, JsonNode>> ops = p.getValue().fields(); ops.hasNext(); ) {
          Map.Entry<String, JsonNode> op = ops.next();
          Set<String> declared = new TreeSet<>();
          for (JsonNode param : op.getValue().path("parameters")) {
            JsonNode resolved = param.has("$ref") ? resolve(doc, param.get("$ref").asText()) : param;
            if (resolved != null && resolved.path("in").asText().equals("path")) {
              declared.add(resolved.get("name").asText());
            }
          }
          if (!declared.equals(inPath)) {
            problems.add(op.getKey() + " " + p.getKey() + " declares path parameters " + declared + ", path has "
                + inPath);
          }
          if (!op.getValue().has("responses") || !op.getValue().get("responses").has("200")) {
            problems.add(op.getKey() + " " + p.getKey() + " has no 200 response");
          }
        }
      }
      assertTrue(problems.isEmpty(), String.join("\n", problems));
    }
  }

  private static void refs(JsonNode doc, JsonNode node, String at, List<String> problems) {
    if (node.isObject()) {
      if (node.has("$ref") && resolve(doc, node.get("$ref").asText()) == null) {
        problems.add(at + ": unresolved " + node.get("$ref").asText());
      }
      node.fields().forEachRemaining(e -> refs(doc, e.getValue(), at + "/" + e.getKey(), problems));
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        refs(doc, node.get(i), at + "/" + i, problems);
      }
    }
  }

  private static JsonNode resolve(JsonNode doc, String ref) {
    if (!ref.startsWith("#/")) {
      return null;
    }
    JsonNode n = doc.at(ref.substring(1));
    return n.isMissingNode() ? null : n;
  }

  /** Each documented route on the real server, then every undocumented method on each documented path. */
  private static void walk(JsonNode doc, java.util.function.Function<String, URI> uri) throws Exception {
    List<String> problems = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = doc.get("paths").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> p = it.next();
      for (String method : METHODS) {
        boolean documented = p.getValue().has(method.toLowerCase());
        String path = concrete(method, p.getKey());
        HttpResponse<String> r = server.client.send(HttpRequest.newBuilder(uri.apply(path))
            .timeout(Duration.ofSeconds(30)).method(method, method.equals("GET") || method.equals("DELETE")
                ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body(path)))
            .build(), HttpResponse.BodyHandlers.ofString());
        boolean noRoute = noRoute(r);
        if (documented && noRoute) {
          problems.add("documented " + method + " " + p.getKey() + " (" + path + ") is not served: " + r.statusCode()
              + " " + r.body());
        } else if (!documented && !noRoute) {
          problems.add("undocumented " + method + " " + p.getKey() + " (" + path + ") is served: " + r.statusCode()
              + " " + r.body());
        }
      }
    }
    assertTrue(problems.isEmpty(), String.join("\n", problems));
  }

  /** The answers a listener gives for a path or method no handler serves. */
  private static boolean noRoute(HttpResponse<String> r) throws Exception {
    String error = r.statusCode() >= 400 ? JSON.readTree(r.body()).path("error").asText() : "";
    return (r.statusCode() == 404 && error.startsWith("Not found:"))
        || (r.statusCode() == 405 && error.contains("is not allowed on"))
        || (r.statusCode() == 400 && error.startsWith("Malformed request:"));
  }

  /**
   * The template with values: an existing model for reads and inference, an unknown one for
   * admin writes (so that walking the routes changes nothing), an unknown node address.
   */
  private static String concrete(String method, String template) {
    boolean adminWrite = !method.equals("GET") && (template.startsWith("/admin/")
        || template.startsWith("/v2/repository/"));
    return template.replace("{model_name}", adminWrite ? "nope" : "half_plus_two")
        .replace("{model_version}", "1")
        .replace("{version_label}", "stable")
        .replace("{label}", "canary")
        .replace("{address}", "akka%3A%2F%2Fnobody%40127.0.0.1%3A1");
  }

  /** A body each handler refuses before changing anything (or reads harmlessly). */
  private static String body(String path) {
    if (path.startsWith("/admin/models/") && path.endsWith("/rollback")) {
      return "{\"version\": 1}";
    }
    if (path.startsWith("/admin/models/")) {
      return "{\"replicas\": 0}";
    }
    if (path.startsWith("/v2/repository/models/")) {
      return "{\"parameters\": {\"config\": \"{}\"}}";
    }
    return "{}";
  }
}
