package dev.shardserve.gateway;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.settings.ParserSettings;
import akka.http.javadsl.settings.ServerSettings;
import akka.stream.Materializer;
import dev.shardserve.desired.DesiredStateStore;
import dev.shardserve.desired.ModelConfigSource;
import dev.shardserve.gateway.admin.AdminApi;
import dev.shardserve.gateway.admin.RepositoryApi;
import dev.shardserve.gateway.admission.Admission;
import dev.shardserve.gateway.admission.ByteBudget;
import dev.shardserve.gateway.errors.HttpErrors;
import dev.shardserve.gateway.grpc.GrpcServer;
import dev.shardserve.gateway.grpc.GrpcSettings;
import dev.shardserve.gateway.kserve.KServeApi;
import dev.shardserve.gateway.openapi.OpenApiDocument;
import dev.shardserve.gateway.routing.ModelRouter;
import dev.shardserve.gateway.security.Listener;
import dev.shardserve.gateway.security.SecureListener;
import dev.shardserve.gateway.security.Security;
import dev.shardserve.gateway.tfserving.TfServingApi;
import dev.shardserve.gateway.warmup.RequestPathWarmup;
import dev.shardserve.protocol.ErrorCode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the front door of a process: the route to model shards (a sharding proxy where this
 * node hosts no models), the inference HTTP listener, the gRPC listener (TF Serving's and
 * KServe's services on the same router and admission) and the admin listener (its own port,
 * loopback by default). The binding is unbound in Coordinated
 * Shutdown, letting requests in flight finish; a failed bind terminates the system.
 */
public final class Gateway {
  private static final Logger log = LoggerFactory.getLogger(Gateway.class);

  private Gateway() {}

  /**
   * The listeners of a gateway: inference (TF Serving REST v1, Open Inference Protocol v2), admin,
   * and gRPC (null when turned off); {@code warmedUp} completes when the request path has been
   * warmed up ({@link RequestPathWarmup}; at once when that is off): the gateway is ready then.
   */
  public record Bindings(ServerBinding inference, ServerBinding admin, GrpcServer grpc,
      CompletionStage<RequestPathWarmup.Outcome> warmedUp) {}

  public static CompletionStage<Bindings> start(ActorSystem<?> system, GatewaySettings settings) {
    ModelRouter router = ModelRouter.start(system);
    Materializer materializer = Materializer.matFromSystem(system);
    Admission admission = new Admission(Admission.Settings.fromConfig(
        system.settings().config().getConfig("shardserve.gateway.admission")), System::nanoTime);
    ByteBudget byteBudget = new ByteBudget(ByteBudget.Settings.fromConfig(
        system.settings().config().getConfig("shardserve.gateway.admission"), settings.maxRequestBytes(),
        Runtime.getRuntime().maxMemory()));
    TfServingApi tfServing = new TfServingApi(router, admission, byteBudget, settings, materializer);
    KServeApi kserve = new KServeApi(router, admission, byteBudget, settings, materializer);
    DesiredStateStore store = new DesiredStateStore(system, settings.controlTimeout());
    GrpcServer grpc = startGrpc(system, router, admission, byteBudget, settings, store);
    AdminApi admin = new AdminApi(router, store,
        ModelConfigSource.of(system.settings().config(), System.getenv()), settings.controlTimeout(), materializer);
    RepositoryApi repository = new RepositoryApi(router, store, system, settings.controlTimeout(), materializer);
    // Per-route limits (max-request-bytes for JSON, max-binary-bytes for binary tensor data) are
    // checked by each route; the parser's own limit is the larger of the two.
    ServerSettings server = ServerSettings.create(system.classicSystem())
        .withParserSettings(ParserSettings.forServer(system)
            .withMaxContentLength(Math.max(settings.maxRequestBytes(), settings.maxBinaryBytes())));
    akka.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> inferenceRoutes =
        request -> handle(materializer, request, path ->
            path.startsWith("/v1/") ? tfServing::handle
                : path.equals("/v2") || path.startsWith("/v2/") ? kserve::handle
                : path.equals(OpenApiDocument.PATH) ? OpenApiDocument.INFERENCE::handle : null);
    CompletionStage<ServerBinding> inference = bind(system, "inference API (TF Serving REST v1, Open Inference "
        + "Protocol v2)", Listener.INFERENCE, settings.host(), settings.port(), server, inferenceRoutes);
    CompletionStage<ServerBinding> adminBinding = bind(system, "admin API", Listener.ADMIN, settings.adminHost(),
        settings.adminPort(), server, request -> handle(materializer, request, path ->
            path.startsWith("/admin/") ? admin::handle
                : path.startsWith(RepositoryApi.PREFIX) ? repository::handle
                : path.equals(OpenApiDocument.PATH) ? OpenApiDocument.ADMIN::handle : null));
    RequestPathWarmup.Settings warmup = RequestPathWarmup.Settings.fromConfig(
        system.settings().config().getConfig("shardserve.gateway.warmup"));
    return inference.thenCombine(adminBinding, (i, a) -> new Bindings(i, a, grpc,
        RequestPathWarmup.start(system, warmup, router, server, inferenceRoutes)));
  }

  /**
   * The gRPC listener on the same router and admission as REST, or null when
   * {@code shardserve.gateway.grpc.port} is -1. A port that cannot be bound terminates the system.
   * Authentication and scopes through {@code GrpcAccess}, TLS from the same settings as HTTP.
   */
  private static GrpcServer startGrpc(ActorSystem<?> system, ModelRouter router, Admission admission,
      ByteBudget byteBudget, GatewaySettings settings, DesiredStateStore store) {
    GrpcSettings grpc = GrpcSettings.fromConfig(system.settings().config());
    if (!grpc.enabled()) {
      log.info("gRPC is off (shardserve.gateway.grpc.port = -1)");
      return null;
    }
    try {
      return GrpcServer.start(system, router, admission, settings, grpc, store,
          // authentication first: a caller without a key is refused before its bytes are charged
          List.of(GrpcServer.access(() -> Security.get(system).access()), GrpcServer.byteBudget(byteBudget)));
    } catch (IOException e) {
      log.error("cannot bind gRPC to {}:{}: {}", grpc.host(), grpc.port(), e.toString());
      system.terminate();
      throw new UncheckedIOException(e);
    }
  }

  /** TLS, authentication and scopes, and the admin write guard come with the listener (security/). */
  private static CompletionStage<ServerBinding> bind(ActorSystem<?> system, String what, Listener listener,
      String host, int port, ServerSettings server,
      akka.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> handler) {
    return SecureListener.bind(system, what, listener, host, port, server, handler);
  }

  /** The API that serves a path, or null for a path no API of the listener serves. */
  private interface Dispatch {
    java.util.function.Function<HttpRequest, CompletionStage<HttpResponse>> api(String path);
  }

  private static CompletionStage<HttpResponse> handle(Materializer materializer, HttpRequest request,
      Dispatch dispatch) {
    CompletionStage<HttpResponse> response;
    try {
      var api = dispatch.api(request.getUri().path());
      response = api != null ? api.apply(request) : CompletableFuture.completedFuture(notFound(request, materializer));
    } catch (RuntimeException e) {
      response = CompletableFuture.failedFuture(e);
    }
    return response.exceptionally(e -> {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      // The exception's class only: a message may quote the request's content (privacy, README "Security").
      StackTraceElement[] at = cause.getStackTrace();
      log.warn("request {} {} failed: {} at {}", request.method().value(), request.getUri().path(),
          cause.getClass().getName(), at.length > 0 ? at[0] : "?");
      return HttpErrors.of(ErrorCode.INTERNAL, "internal error (" + cause.getClass().getSimpleName()
          + "); the gateway's log has the request's path");
    });
  }

  private static HttpResponse notFound(HttpRequest request, Materializer materializer) {
    dev.shardserve.gateway.tfserving.Bodies.discard(request, materializer);
    return HttpErrors.of(ErrorCode.NOT_FOUND, "Not found: " + request.method().value() + " "
        + request.getUri().path());
  }
}
