package dev.shardserve.perf.baseline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.stream.Stream;

/**
 * Baseline 2, what a user would write by hand: the JDK's {@code HttpServer} on a fixed pool of
 * 2 × cores threads with TCP_NODELAY, Jackson's tree model, one SavedModel bundle per model, one
 * TensorFlow call per request (no batching, no actors), TF Serving's predict JSON in and out.
 *
 * <pre>java -cp shardserve.jar:shardserve-perf.jar dev.shardserve.perf.baseline.NaiveServer
 *     --port 8600 --model-repo models --threads calling-thread|default</pre>
 */
public final class NaiveServer {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Map<String, TfModel> models;

  private NaiveServer(Map<String, TfModel> models) {
    this.models = models;
  }

  public static void main(String[] argv) throws Exception {
    Map<String, String> a = TfModel.args(argv);
    int port = Integer.parseInt(a.getOrDefault("port", "8600"));
    Path repo = Path.of(a.getOrDefault("model-repo", "models"));
    TfModel.Threads threads = TfModel.Threads.parse(a.getOrDefault("threads", "calling-thread"));
    Map<String, TfModel> models = new HashMap<>();
    try (Stream<Path> dirs = Files.list(repo)) {
      for (Path d : (Iterable<Path>) dirs.filter(Files::isDirectory)::iterator) {
        models.put(d.getFileName().toString(), new TfModel(d, threads));
      }
    }
    // The JDK server reads this once, when its first server is created.
    System.setProperty("sun.net.httpserver.nodelay", "true");
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 1024);
    server.setExecutor(Executors.newFixedThreadPool(2 * Runtime.getRuntime().availableProcessors()));
    NaiveServer naive = new NaiveServer(models);
    server.createContext("/v1/models/", naive::handle);
    server.start();
    System.out.println("naive server on 127.0.0.1:" + port + " serving " + models.keySet() + " (TensorFlow "
        + threads + ")");
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      String rest = path.substring("/v1/models/".length());
      if (!"POST".equals(ex.getRequestMethod()) || !rest.endsWith(":predict")) {
        send(ex, 404, error("only POST /v1/models/{model}:predict is served here"));
        return;
      }
      TfModel model = models.get(rest.substring(0, rest.length() - ":predict".length()));
      if (model == null) {
        send(ex, 404, error("no model at " + path));
        return;
      }
      byte[] body = ex.getRequestBody().readAllBytes();
      JsonNode instances;
      try {
        instances = JSON.readTree(body).get("instances");
      } catch (IOException e) {
        send(ex, 400, error("JSON Parse error: " + e.getMessage()));
        return;
      }
      if (instances == null || !instances.isArray() || instances.isEmpty()) {
        send(ex, 400, error("'instances' must be a non-empty list"));
        return;
      }
      int rows = instances.size();
      int width = Math.max(1, model.rowWidth);
      float[] x = new float[rows * width];
      for (int r = 0; r < rows; r++) {
        JsonNode row = instances.get(r);
        if (model.rowWidth == 0) {
          x[r] = (float) row.asDouble();
        } else {
          if (row.size() != width) {
            send(ex, 400, error("instance " + r + " has " + row.size() + " values, the model takes " + width));
            return;
          }
          for (int i = 0; i < width; i++) {
            x[r * width + i] = (float) row.get(i).asDouble();
          }
        }
      }
      TfModel.Output y = model.run(x, rows);
      ObjectNode answer = JSON.createObjectNode();
      ArrayNode predictions = answer.putArray("predictions");
      int cols = y.shape().length < 2 ? 0 : (int) y.shape()[1];
      for (int r = 0; r < rows; r++) {
        if (cols == 0) {
          predictions.add(y.values()[r]);
        } else {
          ArrayNode row = predictions.addArray();
          for (int i = 0; i < cols; i++) {
            row.add(y.values()[r * cols + i]);
          }
        }
      }
      send(ex, 200, JSON.writeValueAsBytes(answer));
    } catch (RuntimeException e) {
      send(ex, 500, error(String.valueOf(e.getMessage())));
    }
  }

  private static byte[] error(String message) {
    return ("{\"error\": " + JSON.valueToTree(message) + "}").getBytes(StandardCharsets.UTF_8);
  }

  private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, body.length);
    ex.getResponseBody().write(body);
  }
}
