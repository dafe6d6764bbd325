package dev.shardserve.gateway.warmup;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.settings.ServerSettings;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.typesafe.config.Config;
import dev.shardserve.gateway.errors.HttpErrors;
import dev.shardserve.gateway.routing.ModelRouter;
import dev.shardserve.protocol.ErrorCode;
import java.net.URI;
import java.net.http.HttpClient;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warms a gateway's whole request path before it says it is ready: once models can be routed, a
 * bounded number of synthetic requests (TF Serving v1 and Open Inference Protocol v2 JSON, inputs
 * built from each model's metadata) go through Akka HTTP, the decoders, admission, routing, the
 * channels to other nodes, the batcher, TensorFlow and the encoders, so that the JIT has compiled
 * the hot path before clients arrive (a fresh process otherwise needs many seconds of real load to
 * reach full speed). The requests go to a listener of its own on loopback, bound for the warm-up
 * and unbound after it, that serves the inference routes to holders of a random token only (no
 * TLS, no credentials: those are not this path's hot part). Bounded by a request count and a
 * duration; its requests count in the models' metrics like any other.
 */
public final class RequestPathWarmup {
  private static final Logger log = LoggerFactory.getLogger(RequestPathWarmup.class);
  static final String TOKEN_HEADER = "x-shardserve-warmup";
  private static final JsonFactory JSON = new JsonFactory();
  /** Models with larger inputs than this (elements of one row) are left out. */
  static final int MAX_ELEMENTS = 1 << 16;
  static final int MAX_MODELS = 4;

  /**
   * {@code shardserve.gateway.warmup}.
   *
   * @param requests synthetic requests in all (0: no warm-up)
   * @param concurrency requests in flight at once
   * @param waitForModels how long to wait for the first routable model
   * @param maxDuration how long the requests may take in all
   */
  public record Settings(int requests, int concurrency, Duration waitForModels, Duration maxDuration) {
    public Settings {
      if (requests < 0 || concurrency < 1 || waitForModels.isNegative() || maxDuration.isNegative()) {
        throw new IllegalArgumentException("shardserve.gateway.warmup: need requests >= 0, concurrency >= 1, "
            + "wait-for-models >= 0 and max-duration >= 0; was " + requests + ", " + concurrency + ", "
            + waitForModels + ", " + maxDuration);
      }
    }

    public static Settings fromConfig(Config c) {
      return new Settings(c.getInt("requests"), c.getInt("concurrency"), c.getDuration("wait-for-models"),
          c.getDuration("max-duration"));
    }
  }

  /** What a warm-up did (for the log and tests). */
  public record Outcome(List<String> models, int sent, int ok, Duration took) {}

  private RequestPathWarmup() {}

  /**
   * Runs the warm-up in the background; the stage completes when it is over (or was skipped),
   * never exceptionally. {@code inference} is the inference listener's handler, before its gate.
   */
  public static CompletionStage<Outcome> start(ActorSystem<?> system, Settings settings, ModelRouter router,
      ServerSettings server, akka.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> inference) {
    if (settings.requests() == 0) {
      return CompletableFuture.completedFuture(new Outcome(List.of(), 0, 0, Duration.ZERO));
    }
    byte[] secret = new byte[32];
    new SecureRandom().nextBytes(secret);
    String token = HexFormat.of().formatHex(secret);
    akka.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> guarded = request -> {
      String given = request.getHeader(TOKEN_HEADER).map(h -> h.value()).orElse("");
      if (!MessageDigest.isEqual(given.getBytes(java.nio.charset.StandardCharsets.UTF_8),
          token.getBytes(java.nio.charset.StandardCharsets.UTF_8))) {
        request.discardEntityBytes(system);
        return CompletableFuture.completedFuture(HttpErrors.of(ErrorCode.PERMISSION_DENIED,
            "this listener serves the gateway's own warm-up only"));
      }
      return inference.apply(request);
    };
    CompletableFuture<Outcome> done = new CompletableFuture<>();
    Http.get(system).newServerAt("127.0.0.1", 0).withSettings(server).bind(guarded).whenComplete((binding, error) -> {
      if (error != null) {
        log.warn("request-path warm-up skipped: cannot bind a loopback port: {}", error.toString());
        done.complete(new Outcome(List.of(), 0, 0, Duration.ZERO));
        return;
      }
      Thread t = new Thread(() -> {
        Outcome o;
        try {
          o = run(settings, router, binding.localAddress().getPort(), token);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          o = new Outcome(List.of(), 0, 0, Duration.ZERO);
        } catch (RuntimeException e) {
          log.warn("request-path warm-up stopped: {}", e.toString());
          o = new Outcome(List.of(), 0, 0, Duration.ZERO);
        }
        binding.unbind();
        done.complete(o);
      }, "shardserve-warmup");
      t.setDaemon(true);
      t.start();
    });
    return done;
  }

  /**
   * How long a gateway whose desired state names no model waits for one before it says it is
   * ready anyway: long enough for the desired state to reach a fresh gateway by gossip, short
   * enough that an empty cluster (or one whose models are all added later) is ready at once.
   */
  static final Duration NOTHING_EXPECTED_WAIT = Duration.ofSeconds(5);

  private static Outcome run(Settings settings, ModelRouter router, int port, String token)
      throws InterruptedException {
    long start = System.nanoTime();
    long waitUntil = start + settings.waitForModels().toNanos();
    ExecutorService pool = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "shardserve-warmup-client");
      t.setDaemon(true);
      return t;
    });
    try {
      HttpClient client = HttpClient.newBuilder().executor(pool).version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5)).build();
      List<Body> bodies = new ArrayList<>();
      List<String> models = new ArrayList<>();
      while (bodies.isEmpty()) {
        for (String model : new TreeSet<>(router.snapshot().routes().keySet())) {
          if (models.size() >= MAX_MODELS) {
            break;
          }
          List<Body> b = bodies(client, port, token, model);
          if (!b.isEmpty()) {
            models.add(model);
            bodies.addAll(b);
          }
        }
        if (bodies.isEmpty()) {
          boolean nothingExpected = router.desired().models().isEmpty()
              && System.nanoTime() - (start + NOTHING_EXPECTED_WAIT.toNanos()) > 0;
          if (nothingExpected) {
            log.info("request-path warm-up skipped: the desired state names no model");
            return new Outcome(List.of(), 0, 0, Duration.ofNanos(System.nanoTime() - start));
          }
          if (System.nanoTime() - waitUntil > 0) {
            log.info("request-path warm-up skipped: no model was ready within {}", settings.waitForModels());
            return new Outcome(List.of(), 0, 0, Duration.ofNanos(System.nanoTime() - start));
          }
          Thread.sleep(100); // polling for the first loaded model, a start-up wait with a bound
        }
      }
      long begin = System.nanoTime();
      long until = begin + settings.maxDuration().toNanos();
      AtomicInteger next = new AtomicInteger();
      AtomicInteger ok = new AtomicInteger();
      List<Thread> senders = new ArrayList<>();
      for (int i = 0; i < settings.concurrency(); i++) {
        Thread t = new Thread(() -> send(port, token, bodies, settings.requests(), until, next, ok),
            "shardserve-warmup-" + i);
        t.setDaemon(true);
        t.start();
        senders.add(t);
      }
      for (Thread t : senders) {
        t.join(settings.maxDuration().toMillis() + 30_000);
      }
      int sent = Math.min(next.get(), settings.requests());
      Duration took = Duration.ofNanos(System.nanoTime() - begin);
      log.info("request path warmed up: {} requests ({} answered 200) to {} in {} ms", sent, ok.get(), models,
          took.toMillis());
      return new Outcome(models, sent, ok.get(), took);
    } finally {
      pool.shutdownNow();
    }
  }

  /** A request to send: its path and JSON body. */
  record Body(String path, byte[] json) {}

  /**
   * A v1 and a v2 request for {@code model}, from its v2 metadata; none while the model is not
   * ready or its inputs cannot be built (too large, an unknown datatype).
   */
  static List<Body> bodies(HttpClient client, int port, String token, String model) throws InterruptedException {
    try {
      java.net.http.HttpResponse<byte[]> r = client.send(java.net.http.HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + port + "/v2/models/" + model)).header(TOKEN_HEADER, token)
          .timeout(Duration.ofSeconds(10)).GET().build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray());
      return r.statusCode() == 200 ? bodies(model, inputs(r.body()), new Random(7)) : List.of();
    } catch (java.io.IOException e) {
      return List.of();
    }
  }

  /** An input of a model's v2 metadata. */
  record Input(String name, String datatype, List<Long> shape) {}

  /** The {@code inputs} of a v2 model metadata document. */
  static List<Input> inputs(byte[] metadata) throws java.io.IOException {
    List<Input> out = new ArrayList<>();
    try (JsonParser p = JSON.createParser(metadata)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return out;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        p.nextToken();
        if (!field.equals("inputs") || p.currentToken() != JsonToken.START_ARRAY) {
          p.skipChildren();
          continue;
        }
        while (p.nextToken() == JsonToken.START_OBJECT) {
          String name = null;
          String datatype = null;
          List<Long> shape = new ArrayList<>();
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            String f = p.currentName();
            JsonToken v = p.nextToken();
            if (f.equals("name") && v == JsonToken.VALUE_STRING) {
              name = p.getText();
            } else if (f.equals("datatype") && v == JsonToken.VALUE_STRING) {
              datatype = p.getText();
            } else if (f.equals("shape") && v == JsonToken.START_ARRAY) {
              while (p.nextToken() == JsonToken.VALUE_NUMBER_INT) {
                shape.add(p.getLongValue());
              }
            } else {
              p.skipChildren();
            }
          }
          if (name != null && datatype != null) {
            out.add(new Input(name, datatype, shape));
          }
        }
      }
    }
    return out;
  }

  /** A v1 (columnar) and a v2 JSON request with one row for every input. */
  static List<Body> bodies(String model, List<Input> inputs, Random random) {
    if (inputs.isEmpty()) {
      return List.of();
    }
    java.io.ByteArrayOutputStream v1 = new java.io.ByteArrayOutputStream();
    java.io.ByteArrayOutputStream v2 = new java.io.ByteArrayOutputStream();
    try (JsonGenerator g1 = JSON.createGenerator(v1); JsonGenerator g2 = JSON.createGenerator(v2)) {
      g1.writeStartObject();
      g1.writeObjectFieldStart("inputs");
      g2.writeStartObject();
      g2.writeArrayFieldStart("inputs");
      for (Input in : inputs) {
        List<Integer> shape = new ArrayList<>();
        long elements = 1;
        for (int i = 0; i < in.shape().size(); i++) {
          long d = in.shape().get(i);
          int dim = i == 0 || d < 0 ? 1 : (int) Math.min(d, MAX_ELEMENTS + 1L); // batch and free dimensions: 1
          shape.add(dim);
          elements *= dim;
          if (elements > MAX_ELEMENTS) {
            return List.of();
          }
        }
        List<Object> values = new ArrayList<>();
        for (long i = 0; i < elements; i++) {
          switch (in.datatype()) {
            case "FP16", "FP32", "FP64" -> values.add(Math.round(random.nextDouble() * 10_000) / 10_000.0);
            case "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64" ->
                values.add(random.nextInt(2));
            case "BOOL" -> values.add(Boolean.FALSE);
            case "BYTES" -> values.add("");
            default -> {
              return List.of();
            }
          }
        }
        g1.writeFieldName(in.name());
        nested(g1, values, shape, 0, new int[1]);
        g2.writeStartObject();
        g2.writeStringField("name", in.name());
        g2.writeStringField("datatype", in.datatype());
        g2.writeArrayFieldStart("shape");
        for (int d : shape) {
          g2.writeNumber(d);
        }
        g2.writeEndArray();
        g2.writeArrayFieldStart("data");
        for (Object v : values) {
          write(g2, v);
        }
        g2.writeEndArray();
        g2.writeEndObject();
      }
      g1.writeEndObject();
      g1.writeEndObject();
      g2.writeEndArray();
      g2.writeEndObject();
    } catch (java.io.IOException e) {
      return List.of();
    }
    return List.of(new Body("/v1/models/" + model + ":predict", v1.toByteArray()),
        new Body("/v2/models/" + model + "/infer", v2.toByteArray()));
  }

  private static void write(JsonGenerator g, Object v) throws java.io.IOException {
    if (v instanceof Double d) {
      g.writeNumber(d);
    } else if (v instanceof Integer i) {
      g.writeNumber(i);
    } else if (v instanceof Boolean b) {
      g.writeBoolean(b);
    } else {
      g.writeString((String) v);
    }
  }

  /**
   * One sender: a keep-alive HTTP/1.1 connection on a plain socket, one request at a time, until
   * {@code requests} were taken from {@code next} or {@code until} passed. A minimal client on
   * purpose: the JDK's HttpClient cost more CPU per request than the server (about 800 requests a
   * second on two cores), and the warm-up needs tens of thousands for the JIT's last tier. A
   * connection that fails or answers in a form this reader does not take is opened anew.
   */
  static void send(int port, String token, List<Body> bodies, int requests, long until, AtomicInteger next,
      AtomicInteger ok) {
    List<byte[]> raw = new ArrayList<>();
    for (Body b : bodies) {
      byte[] head = ("POST " + b.path() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + TOKEN_HEADER + ": " + token
          + "\r\nContent-Type: application/json\r\nContent-Length: " + b.json().length + "\r\n\r\n")
          .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      byte[] all = java.util.Arrays.copyOf(head, head.length + b.json().length);
      System.arraycopy(b.json(), 0, all, head.length, b.json().length);
      raw.add(all);
    }
    java.net.Socket socket = null;
    try {
      java.io.InputStream in = null;
      java.io.OutputStream out = null;
      int n;
      while ((n = next.getAndIncrement()) < requests && System.nanoTime() - until < 0) {
        try {
          if (socket == null) {
            socket = new java.net.Socket("127.0.0.1", port);
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(30_000);
            in = new java.io.BufferedInputStream(socket.getInputStream(), 16384);
            out = socket.getOutputStream();
          }
          out.write(raw.get(n % raw.size()));
          out.flush();
          if (readResponse(in) == 200) {
            ok.incrementAndGet();
          }
        } catch (java.io.IOException | RuntimeException e) {
          closeQuietly(socket);
          socket = null;
        }
      }
    } finally {
      closeQuietly(socket);
    }
  }

  /** Reads one response with a Content-Length body; its status. Throws on any other form. */
  static int readResponse(java.io.InputStream in) throws java.io.IOException {
    StringBuilder line = new StringBuilder();
    int status = -1;
    long length = -1;
    boolean first = true;
    while (true) {
      int c = in.read();
      if (c < 0) {
        throw new java.io.EOFException("connection closed");
      }
      if (c != '\n') {
        if (c != '\r') {
          line.append((char) c);
        }
        continue;
      }
      if (line.length() == 0) {
        break;
      }
      String l = line.toString();
      line.setLength(0);
      if (first) {
        status = Integer.parseInt(l.substring(9, 12));
        first = false;
      } else if (l.regionMatches(true, 0, "content-length:", 0, 15)) {
        length = Long.parseLong(l.substring(15).trim());
      }
    }
    if (length < 0) {
      throw new java.io.IOException("no Content-Length");
    }
    for (long left = length; left > 0; ) {
      long skipped = in.skip(left);
      if (skipped <= 0) {
        if (in.read() < 0) {
          throw new java.io.EOFException("connection closed in a body");
        }
        skipped = 1;
      }
      left -= skipped;
    }
    return status;
  }

  private static void closeQuietly(java.net.Socket s) {
    if (s != null) {
      try {
        s.close();
      } catch (java.io.IOException e) {
        // closing a warm-up connection: nothing to do
      }
    }
  }

  /** {@code flat} as nested arrays of {@code shape} (a scalar for an empty shape). */
  private static void nested(JsonGenerator g, List<Object> flat, List<Integer> shape, int axis, int[] at)
      throws java.io.IOException {
    if (axis == shape.size()) {
      write(g, flat.get(at[0]++));
      return;
    }
    g.writeStartArray();
    for (int i = 0; i < shape.get(axis); i++) {
      nested(g, flat, shape, axis + 1, at);
    }
    g.writeEndArray();
  }
}
