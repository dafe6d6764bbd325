package dev.shardserve.gateway.tfserving;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpMethods;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.scaladsl.model.EntityStreamSizeException;
import akka.stream.Materializer;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.gateway.GatewaySettings;
import dev.shardserve.gateway.admission.Admission;
import dev.shardserve.gateway.errors.HttpErrors;
import dev.shardserve.gateway.routing.ModelRouter;
import dev.shardserve.concurrent.PlainFutures;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelName;
import dev.shardserve.protocol.ModelProtocol.ExampleMethod;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.GetMetadata;
import dev.shardserve.protocol.ModelProtocol.GetStatus;
import dev.shardserve.protocol.ModelProtocol.Infer;
import dev.shardserve.protocol.ModelProtocol.InferExamples;
import dev.shardserve.protocol.ModelProtocol.InferReply;
import dev.shardserve.protocol.ModelProtocol.InferResult;
import dev.shardserve.protocol.ModelProtocol.MetadataReply;
import dev.shardserve.protocol.ModelProtocol.ModelMetadata;
import dev.shardserve.protocol.ModelProtocol.ModelStatus;
import dev.shardserve.protocol.ModelProtocol.StatusReply;
import dev.shardserve.protocol.VersionSelector;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * TensorFlow Serving's REST API (v1) on top of the model shards:
 * {@code GET /v1/models/{m}[/versions/{v}|/labels/{l}]} (status), {@code GET .../metadata},
 * {@code POST ...:predict|:classify|:regress}. Paths and errors follow TF Serving's handler: a
 * path or method it does not serve is {@code 400 "Malformed request: METHOD PATH"}.
 */
public final class TfServingApi {
  private static final Pattern PATH = Pattern.compile(
      "/v1/models/([^/:]+)(?:/versions/([^/:]+)|/labels/([^/:]+))?(?:(/metadata)|:([A-Za-z_]+))?");
  static final String TIMEOUT_HEADER = "X-Request-Timeout-Ms";
  public static final String VERSION_HEADER = "X-Model-Version";

  private static final JsonFactory JSON = RequestJson.FACTORY;

  private final ModelRouter router;
  private final Admission admission;
  private final GatewaySettings settings;
  private final Materializer materializer;

  public TfServingApi(ModelRouter router, Admission admission, GatewaySettings settings, Materializer materializer) {
    this.router = router;
    this.admission = admission;
    this.settings = settings;
    this.materializer = materializer;
  }

  public CompletionStage<HttpResponse> handle(HttpRequest request) {
    String path = request.getUri().path();
    Matcher m = PATH.matcher(path);
    if (!m.matches()) {
      return done(malformed(request));
    }
    String model = m.group(1);
    boolean metadata = m.group(4) != null;
    String verb = m.group(5);
    boolean isGet = request.method().equals(HttpMethods.GET);
    boolean isPost = request.method().equals(HttpMethods.POST);
    if ((verb == null && !isGet) || (verb != null && !isPost)
        || (verb != null && !verb.equals("predict") && !verb.equals("classify") && !verb.equals("regress"))) {
      return done(malformed(request));
    }
    if (!ModelName.isValid(model)) {
      return done(HttpErrors.badRequest("invalid model name '" + model
          + "': model names match [A-Za-z0-9_.-]{1,128} and are not '.' or '..'"));
    }
    VersionSelector version;
    try {
      version = selector(m.group(2), m.group(3));
    } catch (BadRequest e) {
      return done(HttpErrors.badRequest(e.getMessage()));
    }
    if (verb == null) {
      return metadata ? metadata(model, version) : status(model, version);
    }
    Duration timeout;
    try {
      timeout = timeout(request, model);
    } catch (BadRequest e) {
      return done(HttpErrors.badRequest(e.getMessage()));
    }
    Failure unroutable = router.unroutable(model, notFoundMessage(model, version));
    if (unroutable != null) {
      Bodies.discard(request, materializer);
      return done(HttpErrors.of(unroutable.code(), unroutable.message()));
    }
    Optional<Admission.Permit> admitted = admission.tryAcquire(model);
    if (admitted.isEmpty()) {
      Bodies.discard(request, materializer);
      return done(HttpErrors.of(ErrorCode.OVERLOADED, model + " is at its concurrency limit of "
          + admission.limit(model) + " requests in flight; retry later"));
    }
    Admission.Permit permit = admitted.get();
    long deadline = System.currentTimeMillis() + timeout.toMillis();
    return infer(request, model, version, verb, deadline, timeout).whenComplete((response, error) ->
        permit.completed(error != null ? 500 : response.status().intValue()));
  }

  private CompletionStage<HttpResponse> infer(HttpRequest request, String model, VersionSelector version, String verb,
      long deadline, Duration timeout) {
    return readBody(request).thenCompose(body -> {
      if (body.rejection() != null) {
        return done(body.rejection());
      }
      try (JsonParser p = parser(body.bytes())) {
        if (verb.equals("predict")) {
          PredictRequest req = PredictRequest.parse(p);
          requireEnd(p);
          return predict(model, version, req, deadline, timeout);
        }
        ExamplesRequest req = ExamplesRequest.parse(p);
        requireEnd(p);
        ExampleMethod method = verb.equals("classify") ? ExampleMethod.CLASSIFY : ExampleMethod.REGRESS;
        return examples(model, version, method, req, deadline, timeout);
      } catch (BadRequest e) {
        return done(HttpErrors.badRequest(e.getMessage()));
      } catch (JsonProcessingException e) {
        return done(HttpErrors.badRequest("JSON Parse error: " + e.getOriginalMessage()));
      } catch (IOException e) {
        return done(HttpErrors.badRequest("JSON Parse error: " + e.getMessage()));
      }
    });
  }

  private CompletionStage<HttpResponse> predict(String model, VersionSelector version, PredictRequest req,
      long deadline, Duration timeout) {
    return router.<InferReply>ask(model,
            replyTo -> new Infer(model, version, req.signatureName(), req.inputs(), deadline, replyTo),
            timeout, f -> f)
        .thenApply(reply -> {
          if (reply instanceof InferResult r) {
            try {
              return ok(req.rowFormat() ? ResponseWriter.predictions(r.outputs())
                  : ResponseWriter.outputs(r.outputs()), r.version());
            } catch (IllegalStateException e) {
              return HttpErrors.badRequest(e.getMessage()); // outputs the row format cannot express
            }
          }
          Failure f = (Failure) reply;
          return HttpErrors.of(f.code(), f.message());
        });
  }

  private CompletionStage<HttpResponse> examples(String model, VersionSelector version, ExampleMethod method,
      ExamplesRequest req, long deadline, Duration timeout) {
    int n = req.examples().size();
    return router.<InferReply>ask(model, replyTo -> new InferExamples(model, version, req.signatureName(), method,
            req.examples(), req.context(), deadline, replyTo), timeout, f -> f)
        .thenApply(reply -> {
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
        });
  }

  private CompletionStage<HttpResponse> status(String model, VersionSelector version) {
    Failure unroutable = router.unroutable(model, "Could not find any versions of model " + model);
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
    Failure unroutable = router.unroutable(model, notFoundMessage(model, version));
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

  /** The header's deadline, else the model's {@code request-timeout}, else the gateway's default. */
  private Duration timeout(HttpRequest request, String model) {
    Optional<akka.http.javadsl.model.HttpHeader> h = request.getHeader(TIMEOUT_HEADER);
    if (h.isEmpty()) {
      ModelSpec spec = router.desired().models().get(model);
      return spec != null ? Duration.ofMillis(Math.min(spec.requestTimeoutMillis(), settings.maxDeadline().toMillis()))
          : settings.defaultDeadline();
    }
    String value = h.get().value().trim();
    long ms;
    try {
      ms = Long.parseLong(value);
    } catch (NumberFormatException e) {
      ms = -1;
    }
    if (ms <= 0 || ms > settings.maxDeadline().toMillis()) {
      throw new BadRequest(TIMEOUT_HEADER + " must be a whole number of milliseconds from 1 to "
          + settings.maxDeadline().toMillis() + ", was '" + value + "'");
    }
    return Duration.ofMillis(ms);
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
            return new Body(null, HttpErrors.of(StatusCodes.REQUEST_TIMEOUT, "request body did not arrive in time"));
          }
          return new Body(null, HttpErrors.badRequest("cannot read the request body: " + c.getMessage()));
        });
  }

  private HttpResponse tooLarge(long size) {
    return HttpErrors.of(StatusCodes.PAYLOAD_TOO_LARGE, "request body " + (size >= 0 ? "of " + size + " bytes " : "")
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
