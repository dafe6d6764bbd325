package dev.shardserve.gateway.admin;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpMethods;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.pattern.Patterns;
import akka.stream.Materializer;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.shardserve.desired.DesiredState;
import dev.shardserve.desired.DesiredStateStore;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.gateway.errors.HttpErrors;
import dev.shardserve.gateway.openapi.ApiRoute;
import dev.shardserve.gateway.routing.ModelRouter;
import dev.shardserve.gateway.tfserving.Bodies;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelName;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.GetStatus;
import dev.shardserve.protocol.ModelProtocol.ModelStatus;
import dev.shardserve.protocol.ModelProtocol.StatusReply;
import dev.shardserve.protocol.ModelProtocol.VersionState;
import dev.shardserve.protocol.ModelProtocol.VersionStatus;
import dev.shardserve.protocol.VersionSelector;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * The Open Inference Protocol's model repository extension (Triton's
 * {@code extension_model_repository}) on the admin listener, mapped onto the desired state as
 * the admin API's load and unload are:
 * <pre>
 * POST /v2/repository/index                   every model named or served, one entry per version, with state and reason
 * POST /v2/repository/models/{m}/load         serve m (desired state: loaded); answers once a replica has it AVAILABLE
 * POST /v2/repository/models/{m}/unload       stop serving m (its settings are kept)
 * </pre>
 * It sits on the admin listener, not on the inference port where Triton serves it, because it
 * changes what the cluster serves: the same reason the admin API has its own loopback listener.
 * States are Triton's: {@code READY} (AVAILABLE), {@code LOADING} (START, LOADING),
 * {@code UNLOADING}, {@code UNAVAILABLE} (END, failed, or unloaded).
 */
public final class RepositoryApi {
  public static final String PREFIX = "/v2/repository/";
  /** The routes this class serves (the admin OpenAPI document must name exactly these). */
  public static final List<ApiRoute> ROUTES = List.of(
      ApiRoute.post("/v2/repository/index"),
      ApiRoute.post("/v2/repository/models/{model_name}/load"),
      ApiRoute.post("/v2/repository/models/{model_name}/unload"));

  private static final JsonFactory JSON = new JsonFactory();
  private static final long MAX_BODY = 1 << 20;
  private static final Duration POLL = Duration.ofMillis(100);

  private final ModelRouter router;
  private final DesiredStateStore store;
  private final ActorSystem<?> system;
  private final Duration timeout;
  private final Materializer materializer;

  public RepositoryApi(ModelRouter router, DesiredStateStore store, ActorSystem<?> system, Duration timeout,
      Materializer materializer) {
    this.router = router;
    this.store = store;
    this.system = system;
    this.timeout = timeout;
    this.materializer = materializer;
  }

  public CompletionStage<HttpResponse> handle(HttpRequest request) {
    String path = request.getUri().path();
    String action = null;
    String model = null;
    if (path.equals(PREFIX + "index")) {
      action = "index";
    } else if (path.startsWith(PREFIX + "models/")) {
      String rest = path.substring((PREFIX + "models/").length());
      int slash = rest.indexOf('/');
      if (slash > 0 && (rest.endsWith("/load") || rest.endsWith("/unload"))
          && rest.indexOf('/', slash + 1) < 0) {
        model = rest.substring(0, slash);
        action = rest.substring(slash + 1);
      }
    }
    if (action == null) {
      Bodies.discard(request, materializer);
      return done(HttpErrors.of(ErrorCode.NOT_FOUND, "Not found: " + request.method().value() + " " + path));
    }
    if (!request.method().equals(HttpMethods.POST)) {
      Bodies.discard(request, materializer);
      return done(HttpErrors.of(ErrorCode.METHOD_NOT_ALLOWED, request.method().value() + " is not allowed on "
          + path + ": use POST"));
    }
    String act = action;
    String name = model;
    return Bodies.read(request, timeout, MAX_BODY, materializer)
        .thenCompose(body -> switch (act) {
          case "index" -> index(AdminJson.object(body));
          case "load" -> load(modelName(name), AdminJson.object(body));
          default -> unload(modelName(name), AdminJson.object(body));
        })
        .exceptionally(RepositoryApi::error);
  }

  // ---- index ----

  /** One index entry ({@code $repository_index_response} element). */
  record Entry(String name, String version, String state, String reason) {}

  private CompletionStage<HttpResponse> index(Map<String, Object> body) {
    requireOnly(body, Set.of("ready", "repository_name"));
    Object ready = body.getOrDefault("ready", Boolean.FALSE);
    if (!(ready instanceof Boolean onlyReady)) {
      throw new IllegalArgumentException("'ready' must be true or false, was " + ready);
    }
    DesiredState state = router.desired();
    Set<String> names = new TreeSet<>(state.models().keySet());
    names.addAll(router.catalog().models());
    List<CompletableFuture<List<Entry>>> all = new ArrayList<>();
    for (String m : names) {
      ModelSpec spec = state.models().get(m);
      if (spec != null && !spec.loaded()) {
        all.add(CompletableFuture.completedFuture(List.of(new Entry(m, null, "UNAVAILABLE", "unloaded"))));
      } else {
        all.add(statuses(m).thenApply(replies -> entries(m, replies)));
      }
    }
    return CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0])).thenApply(done -> {
      List<Entry> entries = new ArrayList<>();
      for (CompletableFuture<List<Entry>> f : all) {
        for (Entry e : f.join()) {
          if (!onlyReady || e.state().equals("READY")) {
            entries.add(e);
          }
        }
      }
      return json(write(g -> {
        g.writeStartArray();
        for (Entry e : entries) {
          g.writeStartObject();
          g.writeStringField("name", e.name());
          if (e.version() != null) {
            g.writeStringField("version", e.version());
          }
          g.writeStringField("state", e.state());
          g.writeStringField("reason", e.reason());
          g.writeEndObject();
        }
        g.writeEndArray();
      }));
    });
  }

  /** A model's entries: each version any replica holds, in its best state across replicas. */
  static List<Entry> entries(String model, List<StatusReply> replies) {
    TreeMap<Long, VersionStatus> best = new TreeMap<>();
    List<String> failures = new ArrayList<>();
    for (StatusReply r : replies) {
      if (r instanceof ModelStatus st) {
        for (VersionStatus v : st.versions()) {
          VersionStatus b = best.get(v.version());
          if (b == null || rank(v) > rank(b)) {
            best.put(v.version(), v);
          }
        }
      } else {
        failures.add(((Failure) r).message());
      }
    }
    if (best.isEmpty()) {
      return List.of(new Entry(model, null, failures.isEmpty() ? "LOADING" : "UNAVAILABLE",
          failures.isEmpty() ? "no version found yet" : String.join("; ", failures)));
    }
    List<Entry> out = new ArrayList<>();
    for (VersionStatus v : best.values()) {
      out.add(new Entry(model, Long.toString(v.version()), tritonState(v.state()),
          v.errorCode() != null ? v.errorMessage() : v.state() == VersionState.END ? "unloaded" : ""));
    }
    return out;
  }

  private static int rank(VersionStatus v) {
    return switch (v.state()) {
      case AVAILABLE -> 4;
      case LOADING, START -> 3;
      case UNLOADING -> 2;
      default -> 1;
    };
  }

  private static String tritonState(VersionState s) {
    return switch (s) {
      case AVAILABLE -> "READY";
      case START, LOADING -> "LOADING";
      case UNLOADING -> "UNLOADING";
      default -> "UNAVAILABLE";
    };
  }

  // ---- load / unload ----

  private CompletionStage<HttpResponse> load(String model, Map<String, Object> body) {
    requireOnly(body, Set.of("parameters"));
    Object parameters = body.get("parameters");
    if (parameters instanceof Map<?, ?> p && !p.isEmpty()) {
      throw new IllegalArgumentException("load parameters " + new TreeSet<>(p.keySet().stream().map(String::valueOf)
          .toList()) + " are not supported (Triton's 'config' and 'file:' overrides have no equivalent here): set "
          + "a model's settings with PUT /admin/models/" + model);
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    return store.update(state -> state.with(model, spec(state, model).withLoaded(true)))
        .thenCompose(w -> awaitLoaded(model, deadline));
  }

  /** Answers once a replica has a version AVAILABLE, or every version failed, or the control timeout passed. */
  private CompletionStage<HttpResponse> awaitLoaded(String model, long deadlineNanos) {
    if (router.snapshot().route(model) == null) {
      return later(model, deadlineNanos, "no worker serves it yet");
    }
    return statuses(model).thenCompose(replies -> {
      List<String> errors = new ArrayList<>();
      boolean settled = !replies.isEmpty();
      for (StatusReply r : replies) {
        if (r instanceof ModelStatus st) {
          for (VersionStatus v : st.versions()) {
            if (v.state() == VersionState.AVAILABLE) {
              return done(json(write(g -> {
                g.writeStartObject();
                g.writeStringField("name", model);
                g.writeStringField("version", Long.toString(v.version()));
                g.writeStringField("state", "READY");
                g.writeEndObject();
              })));
            }
            if (v.state() == VersionState.END && v.errorCode() != null) {
              errors.add("version " + v.version() + ": " + v.errorMessage());
            } else {
              settled = false;
            }
          }
          if (st.versions().isEmpty()) {
            settled = false;
          }
        } else {
          settled = false;
        }
      }
      if (settled && !errors.isEmpty()) {
        return done(HttpErrors.badRequest("failed to load '" + model + "': " + String.join("; ", errors)
            + " (it stays in the desired state; loading is retried with backoff and when its files change)"));
      }
      return later(model, deadlineNanos, describe(replies));
    });
  }

  private CompletionStage<HttpResponse> later(String model, long deadlineNanos, String state) {
    if (System.nanoTime() + POLL.toNanos() > deadlineNanos) {
      return done(HttpErrors.of(ErrorCode.MODEL_NOT_READY, "model '" + model + "' is not ready after "
          + timeout.toMillis() + " ms (" + state + "); it stays in the desired state and keeps loading"));
    }
    return Patterns.after(POLL, system.classicSystem().scheduler(), system.executionContext(),
        () -> awaitLoaded(model, deadlineNanos));
  }

  private CompletionStage<HttpResponse> unload(String model, Map<String, Object> body) {
    requireOnly(body, Set.of("parameters"));
    Object parameters = body.get("parameters");
    if (parameters instanceof Map<?, ?> p) {
      for (Map.Entry<?, ?> e : p.entrySet()) {
        if (!e.getKey().equals("unload_dependents") || !(e.getValue() instanceof Boolean)) {
          throw new IllegalArgumentException("unload parameter '" + e.getKey() + "' = " + e.getValue()
              + " is not supported (only unload_dependents, true or false: models here have no dependents)");
        }
      }
    } else if (parameters != null) {
      throw new IllegalArgumentException("'parameters' must be an object, was " + parameters);
    }
    if (!router.desired().models().containsKey(model) && !router.catalog().models().contains(model)) {
      throw new AdminApi.NotFound("no model named '" + model + "' (POST " + PREFIX + "index lists them)");
    }
    return store.update(state -> state.with(model, spec(state, model).withLoaded(false)))
        .thenApply(w -> json(write(g -> {
          g.writeStartObject();
          g.writeStringField("name", model);
          g.writeStringField("state", "UNAVAILABLE");
          g.writeBooleanField("confirmed_by_all_nodes", w.allConfirmed());
          g.writeEndObject();
        })));
  }

  // ---- helpers ----

  private CompletableFuture<List<StatusReply>> statuses(String model) {
    int replicas = router.replicas(model);
    List<CompletableFuture<StatusReply>> asks = new ArrayList<>();
    for (int r = 0; r < replicas; r++) {
      asks.add(router.<StatusReply>askReplica(model, r, replyTo -> new GetStatus(model, VersionSelector.latest(),
          replyTo), timeout, f -> f).toCompletableFuture());
    }
    return CompletableFuture.allOf(asks.toArray(new CompletableFuture<?>[0])).thenApply(done -> {
      List<StatusReply> out = new ArrayList<>();
      asks.forEach(a -> out.add(a.join()));
      return out;
    });
  }

  private static String describe(List<StatusReply> replies) {
    List<String> parts = new ArrayList<>();
    for (Entry e : entries("", replies)) {
      parts.add((e.version() == null ? "" : "version " + e.version() + " ") + e.state()
          + (e.reason().isEmpty() ? "" : ": " + e.reason()));
    }
    return String.join(", ", parts);
  }

  private static ModelSpec spec(DesiredState state, String model) {
    ModelSpec s = state.models().get(model);
    return s != null ? s : ModelSpec.DEFAULT;
  }

  private static String modelName(String name) {
    if (!ModelName.isValid(name)) {
      throw new IllegalArgumentException("invalid model name '" + name + "'");
    }
    return name;
  }

  private static void requireOnly(Map<String, Object> body, Set<String> allowed) {
    for (String k : body.keySet()) {
      if (!allowed.contains(k)) {
        throw new IllegalArgumentException("unknown field '" + k + "', expected " + new TreeSet<>(allowed));
      }
    }
  }

  private interface Body {
    void write(JsonGenerator g) throws IOException;
  }

  private static byte[] write(Body body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      body.write(g);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static HttpResponse error(Throwable t) {
    Throwable e = t;
    while (e instanceof CompletionException && e.getCause() != null) {
      e = e.getCause();
    }
    if (e instanceof IllegalArgumentException) {
      return HttpErrors.badRequest(e.getMessage());
    }
    if (e instanceof AdminApi.NotFound) {
      return HttpErrors.of(ErrorCode.NOT_FOUND, e.getMessage());
    }
    if (e instanceof akka.http.scaladsl.model.EntityStreamSizeException) {
      return HttpErrors.of(ErrorCode.TOO_LARGE, "repository request bodies are at most " + MAX_BODY + " bytes");
    }
    return HttpErrors.of(ErrorCode.UNAVAILABLE, "repository call failed: " + e);
  }

  private static HttpResponse json(byte[] body) {
    return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, body);
  }

  private static <T> CompletionStage<T> done(T value) {
    return CompletableFuture.completedFuture(value);
  }
}
