package dev.shardserve.gateway.kserve;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpHeader;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.scaladsl.model.EntityStreamSizeException;
import akka.stream.Materializer;
import akka.util.ByteString;
import dev.shardserve.concurrent.Ticker;
import dev.shardserve.dataplane.InferCall;
import dev.shardserve.gateway.GatewaySettings;
import dev.shardserve.gateway.RequestTimeout;
import dev.shardserve.gateway.admission.Admission;
import dev.shardserve.gateway.admission.ByteBudget;
import dev.shardserve.metrics.Api;
import dev.shardserve.metrics.ModelMetrics;
import dev.shardserve.metrics.Protocol;
import dev.shardserve.metrics.RefusalReason;
import dev.shardserve.metrics.ShardServeMetrics;
import dev.shardserve.gateway.errors.HttpErrors;
import dev.shardserve.gateway.openapi.ApiRoute;
import dev.shardserve.gateway.routing.ModelRouter;
import dev.shardserve.gateway.routing.RoutingSnapshot;
import dev.shardserve.gateway.tfserving.Bodies;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelName;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.GetMetadata;
import dev.shardserve.protocol.ModelProtocol.GetStatus;
import dev.shardserve.protocol.ModelProtocol.InferReply;
import dev.shardserve.protocol.ModelProtocol.InferResult;
import dev.shardserve.protocol.ModelProtocol.MetadataReply;
import dev.shardserve.protocol.ModelProtocol.ModelMetadata;
import dev.shardserve.protocol.ModelProtocol.ModelStatus;
import dev.shardserve.protocol.ModelProtocol.StatusReply;
import dev.shardserve.protocol.ModelProtocol.VersionState;
import dev.shardserve.protocol.ModelProtocol.VersionStatus;
import dev.shardserve.protocol.VersionSelector;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;

/**
 * The Open Inference Protocol (KServe v2, Triton) REST routes on the inference port, on the same
 * data plane as TF Serving's routes: health, server and model metadata, model readiness, and
 * {@code POST /v2/models/{m}[/versions/{v}]/infer} with the binary tensor data extension.
 *
 * <p>An inference request takes the TF Serving routes' path: the model's route from the routing
 * snapshot, a refusal before the body is read when the model is at its admission limit, the
 * permit once the body has arrived, the replica chosen, the body decoded (binary inputs copied
 * once, out of the request buffer, into their tensors), its datatypes checked against the
 * signature when the replica is in this JVM, the same {@link InferCall} submitted (so v1 and v2
 * requests share batches), and the answer encoded on the thread that completes it.
 */
public final class KServeApi {
  /** The routes this class serves (the OpenAPI document must name exactly these). */
  public static final List<ApiRoute> ROUTES = routes();

  static final List<String> EXTENSIONS = List.of("binary_tensor_data", "schedule_policy");

  private final ModelRouter router;
  private final Admission admission;
  private final ByteBudget byteBudget;
  private final GatewaySettings settings;
  private final Materializer materializer;
  private final V2Readiness readiness;
  private final V2InputTypes remoteTypes;
  private final Ticker ticker = Ticker.SYSTEM;
  private final ShardServeMetrics metrics;
  private final byte[] serverMetadata;

  public KServeApi(ModelRouter router, Admission admission, ByteBudget byteBudget, GatewaySettings settings,
      Materializer materializer) {
    this.router = router;
    this.admission = admission;
    this.byteBudget = byteBudget;
    this.settings = settings;
    this.materializer = materializer;
    this.metrics = ShardServeMetrics.get(router.system());
    this.readiness = new V2Readiness(router, settings.controlTimeout());
    this.remoteTypes = new V2InputTypes(router, settings.controlTimeout());
    String version = KServeApi.class.getPackage().getImplementationVersion();
    this.serverMetadata = V2ResponseWriter.serverMetadata("shardserve", version == null ? "development" : version,
        EXTENSIONS);
  }

  private static List<ApiRoute> routes() {
    List<ApiRoute> out = new ArrayList<>();
    for (V2Route r : V2Route.values()) {
      out.add(r.route());
    }
    return List.copyOf(out);
  }

  public CompletionStage<HttpResponse> handle(HttpRequest request) {
    long arrivedNanos = ticker.nanos();
    V2Path p = V2Path.parse(request.getUri().path());
    if (p == null || p.model() == null) {
      return route(request, p, arrivedNanos);
    }
    // Counted and timed per model (a model that does not exist as model=""), as the v1 routes are.
    RoutingSnapshot.Route route = router.snapshot().route(p.model());
    ModelMetrics m = route != null ? route.metrics() : metrics.unknownModel();
    Api api = switch (p.route()) {
      case MODEL_INFER, VERSION_INFER -> Api.INFER;
      case MODEL_READY, VERSION_READY -> Api.READY;
      default -> Api.METADATA;
    };
    return route(request, p, arrivedNanos).thenApply(r -> {
      m.requestAnswered(Protocol.REST_V2, api, r.status().intValue(), answeredVersion(r), ticker.nanos() - arrivedNanos);
      return r;
    });
  }

  private static long answeredVersion(HttpResponse r) {
    Optional<HttpHeader> h = r.getHeader(dev.shardserve.gateway.tfserving.TfServingApi.VERSION_HEADER);
    if (h.isEmpty()) {
      return ModelMetrics.NO_VERSION;
    }
    try {
      return Long.parseLong(h.get().value());
    } catch (NumberFormatException e) {
      return ModelMetrics.NO_VERSION;
    }
  }

  private CompletionStage<HttpResponse> route(HttpRequest request, V2Path p, long arrivedNanos) {
    String path = request.getUri().path();
    if (p == null) {
      Bodies.discard(request, materializer);
      String hint = path.startsWith("/v2/repository/")
          ? ": the model repository extension is served on the admin listener (--admin-port), not here" : "";
      return done(HttpErrors.of(ErrorCode.NOT_FOUND, "Not found: " + request.method().value() + " " + path + hint));
    }
    if (!request.method().value().equals(p.route().route().method())) {
      Bodies.discard(request, materializer);
      return done(HttpErrors.of(ErrorCode.METHOD_NOT_ALLOWED, request.method().value() + " is not allowed on "
          + path + ": use " + p.route().route().method()));
    }
    if (p.model() != null && !ModelName.isValid(p.model())) {
      Bodies.discard(request, materializer);
      return done(HttpErrors.badRequest("invalid model name '" + p.model()
          + "': model names match [A-Za-z0-9_.-]{1,128} and are not '.' or '..'"));
    }
    try {
      return switch (p.route()) {
        case SERVER_METADATA -> done(json(serverMetadata));
        case SERVER_LIVE -> done(json(V2ResponseWriter.health("live", null)));
        case SERVER_READY -> readiness.server().thenApply(a -> ready(a, null));
        case MODEL_READY, VERSION_READY -> readiness.model(p.model(), V2Calls.version(p.version()))
            .thenApply(a -> ready(a, p.model()));
        case MODEL_METADATA, VERSION_METADATA -> metadata(p.model(), V2Calls.version(p.version()),
            request.getUri().query().get(V2Calls.SIGNATURE_NAME).orElse(null));
        case MODEL_INFER, VERSION_INFER -> infer(request, p, arrivedNanos);
      };
    } catch (V2Exception e) {
      Bodies.discard(request, materializer);
      return done(HttpErrors.of(e.code(), e.getMessage()));
    }
  }

  private static HttpResponse ready(V2Readiness.Answer a, String model) {
    return a.ready() ? json(V2ResponseWriter.health("ready", model)) : HttpErrors.of(a.code(), a.reason());
  }

  // ---- metadata ----

  private CompletionStage<HttpResponse> metadata(String model, VersionSelector version, String signature) {
    Failure unroutable = router.unroutable(router.snapshot(), model, "Servable not found for request: "
        + version.describe(model));
    if (unroutable != null) {
      return done(HttpErrors.of(unroutable.code(), unroutable.message()));
    }
    CompletableFuture<MetadataReply> md = router.<MetadataReply>ask(model,
        replyTo -> new GetMetadata(model, version, replyTo), settings.controlTimeout(), f -> f).toCompletableFuture();
    CompletableFuture<StatusReply> status = router.<StatusReply>ask(model,
        replyTo -> new GetStatus(model, VersionSelector.latest(), replyTo), settings.controlTimeout(), f -> f)
        .toCompletableFuture();
    return md.thenCombine(status, (m, s) -> {
      if (m instanceof Failure f) {
        return HttpErrors.of(f.code(), f.message());
      }
      ModelMetadata meta = (ModelMetadata) m;
      TreeSet<Long> available = new TreeSet<>();
      if (s instanceof ModelStatus st) {
        for (VersionStatus v : st.versions()) {
          if (v.state() == VersionState.AVAILABLE) {
            available.add(v.version());
          }
        }
      }
      available.add(meta.version());
      List<String> versions = available.stream().map(String::valueOf).toList();
      try {
        return json(V2ResponseWriter.modelMetadata(V2ModelMetadata.of(model, meta, signature, versions)));
      } catch (V2Exception e) {
        return HttpErrors.of(e.code(), e.getMessage());
      }
    });
  }

  // ---- inference ----

  private CompletionStage<HttpResponse> infer(HttpRequest request, V2Path path, long arrivedNanos) {
    String model = path.model();
    VersionSelector version = V2Calls.version(path.version());
    RoutingSnapshot snapshot = router.snapshot();
    Failure unroutable = router.unroutable(snapshot, model, "Servable not found for request: "
        + version.describe(model));
    if (unroutable != null) {
      Bodies.discard(request, materializer);
      return done(HttpErrors.of(unroutable.code(), unroutable.message()));
    }
    RoutingSnapshot.Route route = snapshot.route(model);
    long timeoutMillis = timeoutMillis(request, route);
    int headerLength = headerLength(request);
    if (admission.full(model, route.replicas())) {
      Bodies.discard(request, materializer);
      route.metrics().refused(RefusalReason.ADMISSION);
      return done(overloaded(model));
    }
    boolean binary = headerLength >= 0;
    long limit = binary ? settings.maxBinaryBytes() : settings.maxRequestBytes();
    String limitKey = binary ? "shardserve.gateway.max-binary-bytes" : "shardserve.gateway.max-request-bytes";
    OptionalLong declared = request.entity().getContentLengthOption();
    if (declared.isPresent() && declared.getAsLong() > limit) {
      Bodies.discard(request, materializer);
      route.metrics().refused(RefusalReason.BYTES);
      return done(tooLarge(declared.getAsLong(), limit, limitKey));
    }
    Optional<ByteBudget.Permit> bodyPermit = byteBudget.tryAcquire(declared, limit);
    if (bodyPermit.isEmpty()) {
      Bodies.discard(request, materializer);
      route.metrics().refused(RefusalReason.BYTES);
      return done(HttpErrors.of(ErrorCode.OVERLOADED, byteBudget.refusal(declared, limit)));
    }
    Optional<HttpHeader> encoding = request.getHeader("Content-Encoding");
    return Bodies.readByteString(request, settings.controlTimeout(), limit, materializer)
        .thenCompose(body -> {
          Optional<Admission.Permit> admitted = admission.tryAcquire(model, route.replicas());
          if (admitted.isEmpty()) {
            route.metrics().refused(RefusalReason.ADMISSION);
            return done(overloaded(model));
          }
          Admission.Permit permit = admitted.get();
          route.metrics().inflightIncrement();
          CompletionStage<HttpResponse> response;
          try {
            ByteString bytes = encoding.isPresent() ? decompress(body, encoding.get().value(), limit, limitKey)
                : body;
            response = submit(route, version, bytes, headerLength, arrivedNanos, timeoutMillis);
          } catch (V2Exception e) {
            response = done(HttpErrors.of(e.code(), e.getMessage()));
          } catch (RuntimeException e) {
            response = CompletableFuture.failedFuture(e);
          }
          return response.whenComplete((r, error) -> {
            route.metrics().inflightDecrement();
            permit.completed(error != null ? 500 : r.status().intValue());
            route.metrics().admissionLimit(admission.limit(model));
          });
        })
        .exceptionally(e -> {
          Throwable c = e.getCause() != null ? e.getCause() : e;
          if (c instanceof EntityStreamSizeException) {
            return tooLarge(-1, limit, limitKey);
          }
          if (c instanceof TimeoutException) {
            return HttpErrors.of(ErrorCode.REQUEST_TIMEOUT, "request body did not arrive in time");
          }
          if (c instanceof RuntimeException r) {
            throw r;
          }
          return HttpErrors.badRequest("cannot read the request body: " + c.getMessage());
        })
        .whenComplete((r, error) -> bodyPermit.get().release());
  }

  private CompletionStage<HttpResponse> submit(RoutingSnapshot.Route route, VersionSelector version, ByteString body,
      int headerLength, long arrivedNanos, long timeoutMillis) {
    if (headerLength > body.size()) {
      throw V2Exception.invalid("the Inference-Header-Content-Length header says the JSON is " + headerLength
          + " bytes, but the body has only " + body.size() + " bytes");
    }
    if (headerLength > settings.maxRequestBytes()) {
      throw new V2Exception(ErrorCode.TOO_LARGE, "the JSON part of the request (Inference-Header-Content-Length "
          + headerLength + ") exceeds the limit of " + settings.maxRequestBytes()
          + " bytes (shardserve.gateway.max-request-bytes); only binary tensor data may be larger");
    }
    byte[] json = headerLength >= 0 ? body.slice(0, headerLength).toArray() : body.toArray();
    V2Request req = V2FastDecoder.decode(json, 0, json.length);
    if (req == null) {
      req = V2RequestDecoder.decode(json, 0, json.length);
    }
    String signature = V2Calls.signature(req.parameters());
    long timeoutMicros = V2Calls.timeoutMicros(req.parameters());
    long timeoutNanos = timeoutMillis * 1_000_000L;
    if (timeoutMicros > 0) {
      timeoutNanos = Math.min(timeoutNanos, timeoutMicros * 1_000L);
    }
    List<V2Input> inputs = inputs(req, body, headerLength);
    ModelRouter.Target target = router.target(route);
    long deadlineNanos = arrivedNanos + timeoutNanos;
    V2Request answered = req;
    if (target.handle() != null) {
      Map<String, DType> expected = target.handle().inputTypes(signature);
      return run(route, target, version, signature, inputs, expected, deadlineNanos, answered);
    }
    return remoteTypes.of(route.model(), version, signature).thenCompose(expected -> {
      try {
        return run(route, target, version, signature, inputs, expected, deadlineNanos, answered);
      } catch (V2Exception e) {
        return done(HttpErrors.of(e.code(), e.getMessage()));
      }
    });
  }

  private CompletionStage<HttpResponse> run(RoutingSnapshot.Route route, ModelRouter.Target target,
      VersionSelector version, String signature, List<V2Input> inputs, Map<String, DType> expected,
      long deadlineNanos, V2Request request) {
    InferCall call = V2Calls.predict(route.model(), version, signature, inputs, expected, deadlineNanos);
    String model = route.model();
    boolean remote = target.handle() == null;
    return router.infer(route, target, call, reply -> {
      if (remote && reply instanceof InferResult r) {
        remoteTypes.answeredBy(model, version, r.version());
      }
      return answer(model, request, reply);
    });
  }

  /** The inputs: JSON data as decoded, binary data sliced out of the body in the order the inputs declare it. */
  private static List<V2Input> inputs(V2Request req, ByteString body, int headerLength) {
    List<V2Input> out = new ArrayList<>(req.inputs().size());
    long binaryTotal = 0;
    for (V2Request.Input in : req.inputs()) {
      if (in.binary()) {
        binaryTotal += in.binaryDataSize();
      }
    }
    long after = headerLength < 0 ? 0 : body.size() - headerLength;
    if (binaryTotal > 0 && headerLength < 0) {
      throw V2Exception.invalid("inputs declare binary_data_size, but the request has no Inference-Header-Content-"
          + "Length header to say where the JSON ends and the binary data starts");
    }
    if (binaryTotal != after) {
      throw V2Exception.invalid("the body has " + after + " bytes after the " + headerLength + "-byte JSON header, "
          + "but the inputs' binary_data_size add up to " + binaryTotal);
    }
    int at = Math.max(headerLength, 0);
    for (V2Request.Input in : req.inputs()) {
      if (!in.binary()) {
        out.add(new V2Input(in.name(), in.json()));
        continue;
      }
      int size = (int) in.binaryDataSize();
      byte[] data = body.slice(at, at + size).toArray(); // the one copy: out of the request buffer
      at += size;
      out.add(new V2Input(in.name(), V2Tensors.adopt(in.name(), in.datatype(), in.shape(), data)));
    }
    return out;
  }

  /** The answer, encoded on the thread that completes the request (no copy of the outputs first). */
  private static HttpResponse answer(String model, V2Request request, InferReply reply) {
    if (reply instanceof InferResult r) {
      try {
        return V2ResponseWriter.infer(model, r.version(), request, r.outputs());
      } catch (V2Exception e) {
        return HttpErrors.of(e.code(), e.getMessage());
      }
    }
    Failure f = (Failure) reply;
    return HttpErrors.of(f.code(), f.message());
  }

  private HttpResponse overloaded(String model) {
    return HttpErrors.of(ErrorCode.OVERLOADED, model + " is at its concurrency limit of " + admission.limit(model)
        + " requests in flight; retry later");
  }

  private static HttpResponse tooLarge(long size, long limit, String key) {
    return HttpErrors.of(ErrorCode.TOO_LARGE, "request body " + (size >= 0 ? "of " + size + " bytes " : "")
        + "exceeds the limit of " + limit + " bytes (" + key + ")");
  }

  /** The JSON length from {@code Inference-Header-Content-Length}, or -1 when absent. */
  private static int headerLength(HttpRequest request) {
    Optional<HttpHeader> h = request.getHeader(V2ResponseWriter.HEADER_LENGTH);
    if (h.isEmpty()) {
      return -1;
    }
    String value = h.get().value().trim();
    try {
      int n = Integer.parseInt(value);
      if (n >= 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    throw V2Exception.invalid(V2ResponseWriter.HEADER_LENGTH + " must be a whole number of bytes >= 0, was '"
        + value + "'");
  }

  /** The request's time budget ({@link RequestTimeout}); a bad header value is this API's bad request. */
  private long timeoutMillis(HttpRequest request, RoutingSnapshot.Route route) {
    Optional<HttpHeader> h = request.getHeader(RequestTimeout.HEADER);
    try {
      return RequestTimeout.millis(h.isPresent() ? h.get().value() : null, route.requestTimeoutMillis(), settings);
    } catch (IllegalArgumentException e) {
      throw V2Exception.invalid(e.getMessage());
    }
  }

  /** A body sent with {@code Content-Encoding: gzip} or {@code deflate} (Triton's clients can), inflated within the limit. */
  private static ByteString decompress(ByteString body, String encoding, long limit, String limitKey) {
    String e = encoding.trim().toLowerCase(java.util.Locale.ROOT);
    if (e.equals("identity")) {
      return body;
    }
    try (InputStream in = switch (e) {
      case "gzip" -> new GZIPInputStream(new ByteArrayInputStream(body.toArray()));
      case "deflate" -> new InflaterInputStream(new ByteArrayInputStream(body.toArray()));
      default -> throw new V2Exception(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Content-Encoding '" + encoding
          + "' is not supported; use gzip, deflate or none");
    }) {
      byte[] out = in.readNBytes((int) Math.min(limit + 1, Integer.MAX_VALUE - 8));
      if (out.length > limit) {
        throw new V2Exception(ErrorCode.TOO_LARGE, "the request body inflates to more than the limit of " + limit
            + " bytes (" + limitKey + ")");
      }
      return ByteString.fromArrayUnsafe(out);
    } catch (IOException ex) {
      throw V2Exception.invalid("cannot inflate the " + e + " request body: " + ex.getMessage());
    }
  }

  private static HttpResponse json(byte[] body) {
    return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, body);
  }

  private static <T> CompletionStage<T> done(T value) {
    return CompletableFuture.completedFuture(value);
  }
}
