package dev.shardserve.gateway.admin;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpMethod;
import akka.http.javadsl.model.HttpMethods;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.stream.Materializer;
import dev.shardserve.concurrent.PlainFutures;
import dev.shardserve.desired.DesiredState;
import dev.shardserve.desired.DesiredStateStore;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.desired.RepositoryRoots;
import dev.shardserve.desired.SpecValues;
import dev.shardserve.desired.VersionPolicy;
import dev.shardserve.gateway.errors.HttpErrors;
import dev.shardserve.gateway.openapi.ApiRoute;
import dev.shardserve.gateway.routing.ModelRouter;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelName;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.GetStatus;
import dev.shardserve.protocol.ModelProtocol.ModelStatus;
import dev.shardserve.protocol.ModelProtocol.StatusReply;
import dev.shardserve.protocol.ModelProtocol.VersionState;
import dev.shardserve.protocol.ModelProtocol.VersionStatus;
import dev.shardserve.protocol.VersionSelector;
import dev.shardserve.sharding.GpuWorkers;
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
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The cluster-wide admin API, on its own listener (127.0.0.1:8502 by default; never on the
 * inference port). Every change is written to the {@link DesiredState} in Distributed Data, from
 * where every replica on every node converges on it; the answer says whether every node
 * confirmed the write. Endpoints (README has a curl example for each):
 * <pre>
 * GET    /admin/models                      models with spec and each replica's version states
 * GET    /admin/models/{m}
 * PUT    /admin/models/{m}                  set base_path, version_policy, labels, replicas, stateful,
 *                                           batching, request_timeout, device (gpu|cpu|any; gpu is
 *                                           refused, 400, while no node with role gpu is up)
 * POST   /admin/models/{m}/load             serve the model (optionally with the same fields)
 * POST   /admin/models/{m}/unload           stop serving it (its spec is kept)
 * PUT    /admin/models/{m}/labels/{label}   {"version": v}: the version must be AVAILABLE
 * DELETE /admin/models/{m}/labels/{label}
 * POST   /admin/models/{m}/rollback         {"version": v} pins v; {"label": l, "version": v} moves l
 * POST   /admin/reload-config               replace the desired state with the config file's
 * GET    /admin/nodes                       members: roles, status, capacity, hosted replicas
 * POST   /admin/nodes/{address}/drain       the node hands its replicas off, leaves and exits
 * </pre>
 */
public final class AdminApi {
  private static final Pattern MODEL = Pattern.compile("/admin/models/([^/]+)");
  private static final Pattern ACTION = Pattern.compile("/admin/models/([^/]+)/(load|unload|rollback)");
  private static final Pattern LABEL = Pattern.compile("/admin/models/([^/]+)/labels/([^/]+)");
  private static final Pattern NODE_DRAIN = Pattern.compile("/admin/nodes/([^/]+)/drain");
  private static final Set<String> SPEC_FIELDS = Set.of("base_path", "version_policy", "labels", "replicas",
      "stateful", "batching", "request_timeout", "request_timeout_ms", "device");
  private static final long MAX_BODY = 1 << 20;

  /** The routes this class serves (the admin OpenAPI document must name exactly these). */
  public static final List<ApiRoute> ROUTES = List.of(
      ApiRoute.get("/admin/models"),
      ApiRoute.get("/admin/models/{model_name}"),
      ApiRoute.put("/admin/models/{model_name}"),
      ApiRoute.post("/admin/models/{model_name}/load"),
      ApiRoute.post("/admin/models/{model_name}/unload"),
      ApiRoute.post("/admin/models/{model_name}/rollback"),
      ApiRoute.put("/admin/models/{model_name}/labels/{label}"),
      ApiRoute.delete("/admin/models/{model_name}/labels/{label}"),
      ApiRoute.post("/admin/reload-config"),
      ApiRoute.get("/admin/nodes"),
      ApiRoute.post("/admin/nodes/{address}/drain"));

  private final ModelRouter router;
  private final DesiredStateStore store;
  private final Supplier<DesiredState> configFile;
  private final Duration timeout;
  private final Materializer materializer;
  private final NodesAdmin nodes;
  private final RepositoryRoots roots;

  /**
   * @param configFile reads the model config file again (for reload-config), or null when the
   *     process was started without one
   */
  public AdminApi(ModelRouter router, DesiredStateStore store, Supplier<DesiredState> configFile, Duration timeout,
      Materializer materializer) {
    this.router = router;
    this.store = store;
    this.configFile = configFile;
    this.timeout = timeout;
    this.materializer = materializer;
    this.nodes = new NodesAdmin(router);
    this.roots = RepositoryRoots.fromConfig(router.system().settings().config());
  }

  public CompletionStage<HttpResponse> handle(HttpRequest request) {
    String path = request.getUri().path();
    HttpMethod method = request.method();
    return dev.shardserve.gateway.tfserving.Bodies.read(request, timeout, MAX_BODY, materializer)
        .thenCompose(bytes -> route(path, method, bytes))
        .exceptionally(AdminApi::error);
  }

  private CompletionStage<HttpResponse> route(String path, HttpMethod method, byte[] body) {
    Matcher m;
    if (path.equals("/admin/models") && method.equals(HttpMethods.GET)) {
      return list();
    }
    if (path.equals("/admin/reload-config") && method.equals(HttpMethods.POST)) {
      return reloadConfig();
    }
    if (path.equals("/admin/nodes") && method.equals(HttpMethods.GET)) {
      return nodes.list();
    }
    if ((m = NODE_DRAIN.matcher(path)).matches()) {
      if (!method.equals(HttpMethods.POST)) {
        throw new MethodNotAllowed(method.value() + " is not allowed on " + path + ": use POST");
      }
      return nodes.drain(java.net.URLDecoder.decode(m.group(1), java.nio.charset.StandardCharsets.UTF_8));
    }
    if ((m = MODEL.matcher(path)).matches()) {
      String model = modelName(m.group(1));
      if (method.equals(HttpMethods.GET)) {
        return show(model);
      }
      if (method.equals(HttpMethods.PUT)) {
        return setSpec(model, AdminJson.object(body), false);
      }
    } else if ((m = ACTION.matcher(path)).matches()) {
      String model = modelName(m.group(1));
      if (!method.equals(HttpMethods.POST)) {
        throw new MethodNotAllowed(method.value() + " is not allowed on " + path + ": use POST");
      }
      switch (m.group(2)) {
        case "load":
          return setSpec(model, AdminJson.object(body), true);
        case "unload":
          return write(requireKnown(model), state -> state.with(model, spec(state, model).withLoaded(false)));
        default:
          return rollback(requireKnown(model), AdminJson.object(body));
      }
    } else if ((m = LABEL.matcher(path)).matches()) {
      if (!method.equals(HttpMethods.PUT) && !method.equals(HttpMethods.DELETE)) {
        throw new MethodNotAllowed(method.value() + " is not allowed on " + path + ": use PUT or DELETE");
      }
      String model = requireKnown(modelName(m.group(1)));
      String label = labelName(m.group(2));
      if (method.equals(HttpMethods.PUT)) {
        Map<String, Object> b = AdminJson.object(body);
        requireOnly(b, Set.of("version"));
        if (!b.containsKey("version")) {
          throw new IllegalArgumentException("missing field 'version'");
        }
        long version = SpecValues.version(b.get("version"), "version");
        return requireAvailable(model, Map.of(label, version))
            .thenCompose(ok -> write(model, state -> state.with(model, spec(state, model).withLabel(label, version))));
      }
      if (method.equals(HttpMethods.DELETE)) {
        if (!spec(router.desired(), model).labels().containsKey(label)) {
          throw new NotFound("model " + model + " has no label '" + label + "'");
        }
        return write(model, state -> state.with(model, spec(state, model).withLabel(label, null)));
      }
    } else {
      throw new NotFound("Not found: " + method.value() + " " + path);
    }
    throw new MethodNotAllowed(method.value() + " is not allowed on " + path);
  }

  // ---- reads ----

  private CompletionStage<HttpResponse> list() {
    return store.read().thenCompose(this::list);
  }

  /** Reads from the store, not the routing snapshot: an answer after a write shows that write. */
  private CompletionStage<HttpResponse> list(DesiredState state) {
    Set<String> names = new TreeSet<>(state.models().keySet());
    names.addAll(router.catalog().models());
    List<CompletableFuture<AdminJson.ModelView>> views = new ArrayList<>();
    for (String name : names) {
      views.add(view(state, name).toCompletableFuture());
    }
    return CompletableFuture.allOf(views.toArray(new CompletableFuture<?>[0])).thenApply(done -> {
      List<AdminJson.ModelView> out = new ArrayList<>();
      views.forEach(v -> out.add(v.join()));
      return json(StatusCodes.OK, AdminJson.models(out));
    });
  }

  private CompletionStage<HttpResponse> show(String model) {
    requireKnown(model);
    return store.read().thenCompose(state -> view(state, model))
        .thenApply(v -> json(StatusCodes.OK, AdminJson.model(v, null)));
  }

  private CompletionStage<AdminJson.ModelView> view(DesiredState state, String model) {
    ModelSpec spec = spec(state, model);
    String source = state.models().containsKey(model) ? "desired-state" : "repository";
    if (!spec.loaded()) {
      return CompletableFuture.completedFuture(new AdminJson.ModelView(model, spec, source, List.of()));
    }
    return statuses(model, router.replicas(model), VersionSelector.latest())
        .thenApply(replies -> new AdminJson.ModelView(model, spec, source, replies));
  }

  private CompletionStage<List<StatusReply>> statuses(String model, int replicas, VersionSelector selector) {
    List<CompletableFuture<StatusReply>> asks = new ArrayList<>();
    for (int r = 0; r < replicas; r++) {
      asks.add(router.<StatusReply>askReplica(model, r, replyTo -> new GetStatus(model, selector, replyTo), timeout,
          f -> f).toCompletableFuture());
    }
    return CompletableFuture.allOf(asks.toArray(new CompletableFuture<?>[0])).thenApply(done -> {
      List<StatusReply> out = new ArrayList<>();
      asks.forEach(a -> out.add(a.join()));
      return out;
    });
  }

  // ---- writes ----

  private CompletionStage<HttpResponse> setSpec(String model, Map<String, Object> body, boolean load) {
    requireOnly(body, SPEC_FIELDS);
    DesiredState now = router.desired();
    ModelSpec current = spec(now, model);
    ModelSpec next = apply(current, body, load);
    Map<String, Long> changedLabels = new TreeMap<>();
    next.labels().forEach((l, v) -> {
      if (!v.equals(current.labels().get(l))) {
        changedLabels.put(l, v);
      }
    });
    return requireAvailable(model, changedLabels)
        .thenCompose(ok -> write(model, state -> state.with(model, apply(spec(state, model), body, load))));
  }

  private CompletionStage<HttpResponse> rollback(String model, Map<String, Object> body) {
    requireOnly(body, Set.of("version", "label"));
    if (!body.containsKey("version")) {
      throw new IllegalArgumentException("missing field 'version': the version to roll back to");
    }
    long version = SpecValues.version(body.get("version"), "version");
    if (body.containsKey("label")) {
      String label = labelName(String.valueOf(body.get("label")));
      return requireAvailable(model, Map.of(label, version))
          .thenCompose(ok -> write(model, state -> state.with(model, spec(state, model).withLabel(label, version))));
    }
    return router.<StatusReply>askReplica(model, 0, replyTo -> new GetStatus(model, VersionSelector.latest(),
        replyTo), timeout, f -> f).thenCompose(reply -> {
          if (reply instanceof ModelStatus st && !st.onDisk().contains(version)) {
            throw new NotFound("version " + version + " of model " + model + " is not in its folder (versions there: "
                + st.onDisk() + ")");
          }
          if (reply instanceof Failure f && f.code() != ErrorCode.MODEL_NOT_FOUND) {
            throw new Unavailable(f);
          }
          return write(model, state -> state.with(model,
              spec(state, model).withPolicy(new VersionPolicy.Specific(new TreeSet<>(List.of(version))))));
        });
  }

  private CompletionStage<HttpResponse> reloadConfig() {
    if (configFile == null) {
      throw new IllegalArgumentException("this process was started without a model config file (--model-config), "
          + "so there is nothing to reload");
    }
    DesiredState file = configFile.get();
    DesiredState before = router.desired();
    Set<String> servedBefore = new TreeSet<>(router.catalog().models());
    before.models().forEach((m, s) -> {
      if (s.loaded()) {
        servedBefore.add(m);
      }
    });
    return store.update(old -> file).thenApply(w -> {
      List<String> unloaded = new ArrayList<>();
      for (String m : servedBefore) {
        ModelSpec s = file.models().get(m);
        boolean stillServed = s != null ? s.loaded() : file.discoverRepository();
        if (!stillServed) {
          unloaded.add(m);
        }
      }
      return json(StatusCodes.OK, AdminJson.reloaded(new ArrayList<>(file.models().keySet()), unloaded,
          w.allConfirmed()));
    });
  }

  private CompletionStage<HttpResponse> write(String model, UnaryOperator<DesiredState> change) {
    return store.update(change).thenApply(w -> json(StatusCodes.OK, AdminJson.model(
        new AdminJson.ModelView(model, spec(w.state(), model), "desired-state", null), w.allConfirmed())));
  }

  /** A label may only point at a version that is AVAILABLE on every replica (TF Serving's rule). */
  private CompletionStage<Void> requireAvailable(String model, Map<String, Long> labels) {
    CompletionStage<Void> all = CompletableFuture.completedFuture(null);
    int replicas = router.replicas(model);
    for (Map.Entry<String, Long> e : labels.entrySet()) {
      long v = e.getValue();
      all = all.thenCompose(ok -> statuses(model, replicas, new VersionSelector.Specific(v)).thenAccept(replies -> {
        for (int r = 0; r < replies.size(); r++) {
          String state = stateOf(replies.get(r), v);
          if (!state.equals(VersionState.AVAILABLE.name())) {
            throw new IllegalArgumentException("label '" + e.getKey() + "' cannot point at version " + v
                + " of model " + model + ": a label may only point at an AVAILABLE version, and on replica " + r
                + " it is " + state);
          }
        }
      }));
    }
    return all;
  }

  private static String stateOf(StatusReply reply, long version) {
    if (reply instanceof ModelStatus st) {
      for (VersionStatus v : st.versions()) {
        if (v.version() == version) {
          return v.state().name() + (v.errorCode() != null ? " (" + v.errorMessage() + ")" : "");
        }
      }
      return "not loaded";
    }
    Failure f = (Failure) reply;
    return f.code() == ErrorCode.VERSION_NOT_FOUND ? "not loaded" : "unknown (" + f.message() + ")";
  }

  // ---- values ----

  private ModelSpec apply(ModelSpec base, Map<String, Object> body, boolean load) {
    ModelSpec s = load ? base.withLoaded(true) : base;
    for (Map.Entry<String, Object> e : body.entrySet()) {
      Object v = e.getValue();
      switch (e.getKey()) {
        case "base_path":
          if (!(v instanceof String path)) {
            throw new IllegalArgumentException("base_path must be a string, was " + v);
          }
          roots.check(path); // inside a repository root after '..' and links, or 400 naming both
          s = s.withBasePath(path);
          break;
        case "version_policy":
          s = s.withPolicy(SpecValues.policy(v, "version_policy"));
          break;
        case "labels":
          s = s.withLabels(SpecValues.labels(v, "labels"));
          break;
        case "replicas":
          s = s.withReplicas(SpecValues.replicas(v, "replicas"));
          break;
        case "stateful":
          if (!(v instanceof Boolean b)) {
            throw new IllegalArgumentException("stateful must be true or false, was " + v);
          }
          s = s.withStateful(b);
          break;
        case "batching":
          s = s.withBatching(SpecValues.batching(v, "batching", s.batching()));
          break;
        case "request_timeout":
          s = s.withRequestTimeoutMillis(SpecValues.timeoutMillis(v, "request_timeout"));
          break;
        case "request_timeout_ms":
          s = s.withRequestTimeoutMillis(SpecValues.timeoutMillis(v instanceof Number n ? n.longValue() + "ms" : v,
              "request_timeout_ms"));
          break;
        case "device":
          s = s.withDevice(SpecValues.device(v, "device"));
          String refused = GpuWorkers.refusal("this model", s, GpuWorkers.up(router.system()));
          if (refused != null) {
            throw new IllegalArgumentException(refused);
          }
          break;
        default:
          throw new IllegalStateException(e.getKey());
      }
    }
    if (body.containsKey("replicas") && body.containsKey("stateful") && s.stateful() && s.replicas() != 1) {
      throw new IllegalArgumentException("a stateful model has exactly one replica, was " + s.replicas());
    }
    return s;
  }

  private static ModelSpec spec(DesiredState state, String model) {
    ModelSpec s = state.models().get(model);
    return s != null ? s : ModelSpec.DEFAULT;
  }

  private String requireKnown(String model) {
    if (!router.desired().models().containsKey(model) && !router.catalog().models().contains(model)) {
      throw new NotFound("no model named '" + model + "' (GET /admin/models lists them; PUT or load adds one)");
    }
    return model;
  }

  private static String modelName(String name) {
    if (!ModelName.isValid(name)) {
      throw new IllegalArgumentException("invalid model name '" + name + "'");
    }
    return name;
  }

  private static String labelName(String label) {
    new VersionSelector.Label(label); // throws naming the label
    return label;
  }

  private static void requireOnly(Map<String, Object> body, Set<String> allowed) {
    for (String k : body.keySet()) {
      if (!allowed.contains(k)) {
        throw new IllegalArgumentException("unknown field '" + k + "', expected " + new TreeSet<>(allowed));
      }
    }
  }

  // ---- errors ----

  static final class NotFound extends RuntimeException {
    NotFound(String message) {
      super(message);
    }
  }

  private static final class MethodNotAllowed extends RuntimeException {
    MethodNotAllowed(String message) {
      super(message);
    }
  }

  private static final class Unavailable extends RuntimeException {
    final Failure failure;

    Unavailable(Failure failure) {
      super(failure.message());
      this.failure = failure;
    }
  }

  private static HttpResponse error(Throwable t) {
    Throwable e = t;
    while ((e instanceof CompletionException || e instanceof java.util.concurrent.ExecutionException)
        && e.getCause() != null) {
      e = e.getCause();
    }
    if (e instanceof IllegalArgumentException) {
      return HttpErrors.badRequest(e.getMessage());
    }
    if (e instanceof NotFound) {
      return HttpErrors.of(ErrorCode.NOT_FOUND, e.getMessage());
    }
    if (e instanceof MethodNotAllowed) {
      return HttpErrors.of(ErrorCode.METHOD_NOT_ALLOWED, e.getMessage());
    }
    if (e instanceof Unavailable u) {
      return HttpErrors.of(u.failure.code(), u.failure.message());
    }
    if (e instanceof akka.http.scaladsl.model.EntityStreamSizeException) {
      return HttpErrors.of(ErrorCode.TOO_LARGE, "admin request bodies are at most " + MAX_BODY + " bytes");
    }
    return HttpErrors.of(ErrorCode.UNAVAILABLE, "admin call failed: " + e);
  }

  private static HttpResponse json(akka.http.javadsl.model.StatusCode status, byte[] body) {
    return HttpResponse.create().withStatus(status).withEntity(ContentTypes.APPLICATION_JSON, body);
  }
}
