package dev.shardserve.gateway.tfserving;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpMethods;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.scaladsl.model.EntityStreamSizeException;
import akka.stream.Materializer;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import dev.shardserve.concurrent.Ticker;
import dev.shardserve.dataplane.InferCall;
import dev.shardserve.gateway.GatewaySettings;
import dev.shardserve.gateway.RequestTimeout;
import dev.shardserve.gateway.admission.Admission;
import dev.shardserve.gateway.admission.ByteBudget;
import dev.shardserve.gateway.errors.HttpErrors;
import dev.shardserve.gateway.openapi.ApiRoute;
import dev.shardserve.gateway.routing.ModelRouter;
import dev.shardserve.gateway.routing.RoutingSnapshot;
import dev.shardserve.logging.AccessLog;
import dev.shardserve.logging.RequestContext;
import dev.shardserve.logging.RequestId;
import dev.shardserve.metrics.Api;
import dev.shardserve.metrics.ModelMetrics;
import dev.shardserve.metrics.Protocol;
import dev.shardserve.metrics.RefusalReason;
import dev.shardserve.metrics.ShardServeMetrics;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelName;
import dev.shardserve.protocol.ModelProtocol.ExampleMethod;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.GetMetadata;
import dev.shardserve.protocol.ModelProtocol.GetStatus;
import dev.shardserve.protocol.ModelProtocol.InferReply;
import dev.shardserve.protocol.ModelProtocol.InferResult;
import dev.shardserve.protocol.ModelProtocol.MetadataReply;
import dev.shardserve.protocol.ModelProtocol.ModelMetadata;
import dev.shardserve.protocol.ModelProtocol.ModelStatus;
import dev.shardserve.protocol.ModelProtocol.StatusReply;
import dev.shardserve.protocol.VersionSelector;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;

/**
 * TensorFlow Serving's REST API (v1) on the data plane:
 * {@code GET /v1/models/{m}[/versions/{v}|/labels/{l}]} (status), {@code GET .../metadata},
 * {@code POST ...:predict|:classify|:regress}. Paths and errors follow TF Serving's handler: a
 * path or method it does not serve is {@code 400 "Malformed request: METHOD PATH"}.
 *
 * <p>An inference request: the path is taken apart without a regular expression, the model's
 * route read from the routing snapshot, a model at its admission limit refused before its body is
 * read, the permit taken once the body has arrived, the replica chosen, the body decoded (straight
 * into the signature's dtypes when that replica is in this JVM), the call submitted, and the
 * answer encoded on the thread that completes it (a runtime thread for a local replica).
 */
public final class TfServingApi {
  public static final String VERSION_HEADER = "X-Model-Version";

  private static final JsonFactory JSON = RequestJson.FACTORY;

  /** The routes this class serves (the OpenAPI document must name exactly these). */
  public static final List<ApiRoute> ROUTES = routes();

  private final ModelRouter router;
  private final Admission admission;
  private final ByteBudget byteBudget;
  private final GatewaySettings settings;
  private final Materializer materializer;
  private final Ticker ticker = Ticker.SYSTEM;
  private final ShardServeMetrics metrics;
  private final AccessLog accessLog;

  public TfServingApi(ModelRouter router, Admission admission, ByteBudget byteBudget, GatewaySettings settings,
      Materializer materializer) {
    this.router = router;
    this.admission = admission;
    this.byteBudget = byteBudget;
    this.settings = settings;
    this.materializer = materializer;
    this.metrics = ShardServeMetrics.get(router.system());
    this.accessLog = AccessLog.create(AccessLog.Settings.fromConfig(
        router.system().settings().config().getConfig("shardserve.logging.access-log")));
  }

  /**
   * Counts and times the answer when it is handed to the HTTP layer, writes its access line (when
   * on and sampled), and echoes the request id.
   */
  private CompletionStage<HttpResponse> answered(ModelMetrics m, Api api, long arrivedNanos, RequestContext context,
      String model, long requestBytes, CompletionStage<HttpResponse> response) {
    return response.thenApply(r -> {
      long version = answeredVersion(r);
      long took = ticker.nanos() - arrivedNanos;
      m.requestAnswered(Protocol.REST_V1, api, r.status().intValue(), version, took);
      if (accessLog.enabled()) {
        accessLog.requestAnswered(model, version, Protocol.REST_V1, api, r.status().intValue(), took, requestBytes,
            r.entity().getContentLengthOption().orElse(-1), context);
      }
      return r.addHeader(RawHeader.create(RequestId.HEADER, context.requestId().value()));
    });
  }

  private static long answeredVersion(HttpResponse r) {
    Optional<akka.http.javadsl.model.HttpHeader> h = r.getHeader(VERSION_HEADER);
    if (h.isEmpty()) {
      return ModelMetrics.NO_VERSION;
    }
    try {
      return Long.parseLong(h.get().value());
    } catch (NumberFormatException e) {
      return ModelMetrics.NO_VERSION;
    }
  }

  private static long bodyBytes(HttpRequest request) {
    return request.entity().getContentLengthOption().orElse(-1);
  }

  private static Api api(String verb, boolean metadata) {
    if (verb == null) {
      return metadata ? Api.METADATA : Api.STATUS;
    }
    return switch (verb) {
      case "classify" -> Api.CLASSIFY;
      case "regress" -> Api.REGRESS;
      default -> Api.PREDICT;
    };
  }

  private static List<ApiRoute> routes() {
    List<ApiRoute> out = new ArrayList<>();
    for (String base : List.of("/v1/models/{model_name}", "/v1/models/{model_name}/versions/{model_version}",
        "/v1/models/{model_name}/labels/{version_label}")) {
      out.add(ApiRoute.get(base));
      out.add(ApiRoute.get(base + "/metadata"));
      for (String verb : List.of("predict", "classify", "regress")) {
        out.add(ApiRoute.post(base + ":" + verb));
      }
    }
    return List.copyOf(out);
  }

  public CompletionStage<HttpResponse> handle(HttpRequest request) {
    long arrivedNanos = ticker.nanos();
    RequestContext context = RequestContext.fromHeaders(request.getHeader(RequestId.HEADER).map(h -> h.value())
        .orElse(null), request.getHeader("traceparent").map(h -> h.value()).orElse(null));
    try (RequestContext.Scope scope = context.mdc()) {
      return handle(request, arrivedNanos, context);
    }
  }

  private CompletionStage<HttpResponse> handle(HttpRequest request, long arrivedNanos, RequestContext context) {
    V1Path path = V1Path.parse(request.getUri().path());
    if (path == null) {
      return done(malformed(request));
    }
    String model = path.model();
    String verb = path.verb();
    boolean isGet = request.method().equals(HttpMethods.GET);
    boolean isPost = request.method().equals(HttpMethods.POST);
    if ((verb == null && !isGet) || (verb != null && !isPost)
        || (verb != null && !verb.equals("predict") && !verb.equals("classify") && !verb.equals("regress"))) {
      return done(malformed(request));
    }
    RoutingSnapshot snapshot = router.snapshot();
    RoutingSnapshot.Route route = snapshot.route(model);
    ModelMetrics m = route != null ? route.metrics() : metrics.unknownModel();
    Api api = api(verb, path.metadata());
    if (!ModelName.isValid(model)) {
      return answered(m, api, arrivedNanos, context, model, bodyBytes(request), done(HttpErrors.badRequest("invalid model name '" + model
          + "': model names match [A-Za-z0-9_.-]{1,128} and are not '.' or '..'")));
    }
    VersionSelector version;
    try {
      version = selector(path.version(), path.label());
    } catch (BadRequest e) {
      return answered(m, api, arrivedNanos, context, model, bodyBytes(request), done(HttpErrors.badRequest(e.getMessage())));
    }
    if (verb == null) {
      return answered(m, api, arrivedNanos, context, model, bodyBytes(request), path.metadata() ? metadata(model, version) : status(model, version));
    }
    Failure unroutable = router.unroutable(snapshot, model, notFoundMessage(model, version));
    if (unroutable != null) {
      Bodies.discard(request, materializer);
      if (unroutable.code() == ErrorCode.MODEL_NOT_READY) {
        m.refused(RefusalReason.UNAVAILABLE);
      }
      return answered(m, api, arrivedNanos, context, model, bodyBytes(request), done(HttpErrors.of(unroutable.code(), unroutable.message())));
    }
    long timeoutMillis;
    try {
      timeoutMillis = timeoutMillis(request, route);
    } catch (BadRequest e) {
      Bodies.discard(request, materializer);
      return answered(m, api, arrivedNanos, context, model, bodyBytes(request), done(HttpErrors.badRequest(e.getMessage())));
    }
    if (admission.full(model, route.replicas())) {
      Bodies.discard(request, materializer);
      m.refused(RefusalReason.ADMISSION);
      return answered(m, api, arrivedNanos, context, model, bodyBytes(request), done(overloaded(model)));
    }
    long deadlineNanos = arrivedNanos + timeoutMillis * 1_000_000L;
    OptionalLong declared = request.entity().getContentLengthOption();
    ByteBudget.Permit bytes = null;
    if (declared.isEmpty() || declared.getAsLong() <= settings.maxRequestBytes()) {
      // Charged before the body is read (an oversize body is refused 413 by readBody instead).
      Optional<ByteBudget.Permit> charged = byteBudget.tryAcquire(declared, settings.maxRequestBytes());
      if (charged.isEmpty()) {
        Bodies.discard(request, materializer);
        m.refused(RefusalReason.BYTES);
        return answered(m, api, arrivedNanos, context, model, bodyBytes(request), done(HttpErrors.of(
            ErrorCode.OVERLOADED, byteBudget.refusal(declared, settings.maxRequestBytes()))));
      }
      bytes = charged.get();
    }
    ByteBudget.Permit bodyPermit = bytes;
    return answered(m, api, arrivedNanos, context, model, bodyBytes(request), readBody(request).thenCompose(body -> {
      if (body.rejection() != null) {
        if (body.rejection().status().intValue() == 413) {
          m.refused(RefusalReason.BYTES);
        }
        return done(body.rejection());
      }
      Optional<Admission.Permit> admitted = admission.tryAcquire(model, route.replicas());
      if (admitted.isEmpty()) {
        m.refused(RefusalReason.ADMISSION);
        return done(overloaded(model));
      }
      Admission.Permit permit = admitted.get();
      m.inflightIncrement();
      CompletionStage<HttpResponse> response;
      try {
        response = infer(route, version, verb, body.bytes(), deadlineNanos, context);
      } catch (RuntimeException e) {
        response = CompletableFuture.failedFuture(e);
      }
      return response.whenComplete((r, error) -> {
        m.inflightDecrement();
        permit.completed(error != null ? 500 : r.status().intValue());
        m.admissionLimit(admission.limit(model));
      });
    }).whenComplete((r, error) -> {
      if (bodyPermit != null) {
        bodyPermit.release();
      }
    }));
  }

  private HttpResponse overloaded(String model) {
    return HttpErrors.of(ErrorCode.OVERLOADED, model + " is at its concurrency limit of " + admission.limit(model)
        + " requests in flight; retry later");
  }

  private CompletionStage<HttpResponse> infer(RoutingSnapshot.Route route, VersionSelector version, String verb,
      byte[] body, long deadlineNanos, RequestContext context) {
    String requestId = context.requestId().value();
    String traceParent = context.forwardedTraceParent();
    ModelRouter.Target target = router.target(route);
    String model = route.model();
    try {
      if (verb.equals("predict")) {
        PredictRequest req = FastPredictDecoder.decode(body, target::inputTypes);
        if (req == null) {
          try (JsonParser p = parser(body)) {
            req = PredictRequest.parse(p);
            requireEnd(p);
          }
        }
        boolean rowFormat = req.rowFormat();
        InferCall call = new InferCall.Predict(model, version, req.signatureName(), req.inputs(), deadlineNanos,
            requestId, traceParent);
        return router.infer(route, target, call, reply -> predictAnswer(reply, rowFormat));
      }
      ExamplesRequest req;
      try (JsonParser p = parser(body)) {
        req = ExamplesRequest.parse(p);
        requireEnd(p);
      }
      ExampleMethod method = verb.equals("classify") ? ExampleMethod.CLASSIFY : ExampleMethod.REGRESS;
      int n = req.examples().size();
      InferCall call = new InferCall.Examples(model, version, req.signatureName(), method, req.examples(),
          req.context(), deadlineNanos, requestId, traceParent);
      return router.infer(route, target, call, reply -> examplesAnswer(reply, method, n));
    } catch (BadRequest e) {
      return done(HttpErrors.badRequest(e.getMessage()));
    } catch (JsonProcessingException e) {
      return done(HttpErrors.badRequest("JSON Parse error: " + e.getOriginalMessage()));
    } catch (IOException e) {
      return done(HttpErrors.badRequest("JSON Parse error: " + e.getMessage()));
    }
  }

  /** The predict answer, encoded on the thread that completes the request (no copy of the outputs first). */
  private static HttpResponse predictAnswer(InferReply reply, boolean rowFormat) {
    if (reply instanceof InferResult r) {
      try {
        return ok(rowFormat ? ResponseWriter.predictions(r.outputs()) : ResponseWriter.outputs(r.outputs()),
            r.version());
      } catch (IllegalStateException e) {
        return HttpErrors.badRequest(e.getMessage()); // outputs the row format cannot express
      }
    }
    Failure f = (Failure) reply;
    return HttpErrors.of(f.code(), f.message());
  }

  private static HttpResponse examplesAnswer(InferReply reply, ExampleMethod method, int n) {
    if (reply instanceof InferResult r) {
      try {
        return ok(method == ExampleMethod.CLASSIFY ? ResponseWriter.classifyResults(r.outputs(), n)
            : ResponseWriter.regressResults(r.outputs(), n), r.version());
      } catch (IllegalStateException e) {
        return HttpErrors.badRequest(e.getMessage()); // the signature's outputs do not fit the API
      }
    }
    Failure f = (Failure) reply;
    return HttpErrors.of(f.code(), f.message());
  }

  private CompletionStage<HttpResponse> status(String model, VersionSelector version) {
    Failure unroutable = router.unroutable(router.snapshot(), model, "Could not find any versions of model " + model);
    if (unroutable != null) {
      return done(HttpErrors.of(unroutable.code(), unroutable.message()));
    }
    return router.<StatusReply>ask(model, replyTo -> new GetStatus(model, version, replyTo),
            settings.controlTimeout(), f -> f)
        .thenApply(reply -> {
          if (reply instanceof ModelStatus s && !s.versions().isEmpty()) {
            return ok(ResponseWriter.status(s), -1);
          }
          Failure f = reply instanceof Failure failure ? failure
              : new Failure(ErrorCode.MODEL_NOT_FOUND, "Could not find any versions of model " + model);
          return HttpErrors.of(f.code(), f.message());
        });
  }

  private CompletionStage<HttpResponse> metadata(String model, VersionSelector version) {
    Failure unroutable = router.unroutable(router.snapshot(), model, notFoundMessage(model, version));
    if (unroutable != null) {
      return done(HttpErrors.of(unroutable.code(), unroutable.message()));
    }
    return router.<MetadataReply>ask(model, replyTo -> new GetMetadata(model, version, replyTo),
            settings.controlTimeout(), f -> f)
        .thenApply(reply -> reply instanceof ModelMetadata md ? ok(ResponseWriter.metadata(model, md), md.version())
            : HttpErrors.of(((Failure) reply).code(), ((Failure) reply).message()));
  }

  private static String notFoundMessage(String model, VersionSelector version) {
    return "Servable not found for request: " + version.describe(model);
  }

  private static VersionSelector selector(String version, String label) {
    if (version != null) {
      try {
        long v = Long.parseLong(version);
        if (v < 0) {
          throw new NumberFormatException();
        }
        return new VersionSelector.Specific(v);
      } catch (NumberFormatException e) {
        throw new BadRequest("Failed to convert version: '" + version + "' is not a non-negative 64-bit integer");
      }
    }
    if (label != null) {
      try {
        return new VersionSelector.Label(label);
      } catch (IllegalArgumentException e) {
        throw new BadRequest(e.getMessage());
      }
    }
    return VersionSelector.latest();
  }

  /** The request's time budget ({@link RequestTimeout}); a bad header value is this API's bad request. */
  private long timeoutMillis(HttpRequest request, RoutingSnapshot.Route route) {
    Optional<akka.http.javadsl.model.HttpHeader> h = request.getHeader(RequestTimeout.HEADER);
    try {
      return RequestTimeout.millis(h.isPresent() ? h.get().value() : null, route.requestTimeoutMillis(), settings);
    } catch (IllegalArgumentException e) {
      throw new BadRequest(e.getMessage());
    }
  }

  /** A request body, or the response that refuses it. */
  private record Body(byte[] bytes, HttpResponse rejection) {}

  /** Reads the whole body; over the limit is 413, whether declared up front or found while reading. */
  private CompletionStage<Body> readBody(HttpRequest request) {
    long limit = settings.maxRequestBytes();
    OptionalLong declared = request.entity().getContentLengthOption();
    if (declared.isPresent() && declared.getAsLong() > limit) {
      Bodies.discard(request, materializer);
      return done(new Body(null, tooLarge(declared.getAsLong())));
    }
    return Bodies.read(request, settings.controlTimeout(), limit, materializer)
        .thenApply(bytes -> new Body(bytes, null))
        .exceptionally(e -> {
          Throwable c = e.getCause() != null ? e.getCause() : e;
          if (c instanceof EntityStreamSizeException) {
            return new Body(null, tooLarge(-1));
          }
          if (c instanceof TimeoutException) {
            return new Body(null, HttpErrors.of(ErrorCode.REQUEST_TIMEOUT, "request body did not arrive in time"));
          }
          return new Body(null, HttpErrors.badRequest("cannot read the request body: " + c.getMessage()));
        });
  }

  private HttpResponse tooLarge(long size) {
    return HttpErrors.of(ErrorCode.TOO_LARGE, "request body " + (size >= 0 ? "of " + size + " bytes " : "")
        + "exceeds the limit of " + settings.maxRequestBytes() + " bytes (shardserve.gateway.max-request-bytes)");
  }

  private static JsonParser parser(byte[] bytes) throws IOException {
    if (bytes.length == 0) {
      throw new BadRequest("JSON Parse error: The document is empty");
    }
    return JSON.createParser(bytes);
  }

  private static void requireEnd(JsonParser p) throws IOException {
    if (p.nextToken() != null) {
      throw new BadRequest("JSON Parse error: The document root must not be followed by other values.");
    }
  }

  private static HttpResponse malformed(HttpRequest request) {
    return HttpErrors.badRequest("Malformed request: " + request.method().value() + " " + request.getUri().path());
  }

  private static HttpResponse ok(byte[] json, long version) {
    HttpResponse r = HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, json);
    return version >= 0 ? r.addHeader(RawHeader.create(VERSION_HEADER, Long.toString(version))) : r;
  }

  private static <T> CompletionStage<T> done(T value) {
    return CompletableFuture.completedFuture(value);
  }
}
