package dev.shardserve.gateway;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.settings.ParserSettings;
import akka.http.javadsl.settings.ServerSettings;
import akka.stream.Materializer;
import dev.shardserve.concurrent.PlainFutures;
import dev.shardserve.desired.DesiredStateStore;
import dev.shardserve.desired.ModelConfigSource;
import dev.shardserve.gateway.admin.AdminApi;
import dev.shardserve.gateway.admission.Admission;
import dev.shardserve.gateway.errors.HttpErrors;
import dev.shardserve.gateway.routing.ModelRouter;
import dev.shardserve.gateway.tfserving.TfServingApi;
import dev.shardserve.settings.DrainTimeout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the front door of a process: the route to model shards (a sharding proxy where this
 * node hosts no models), the inference HTTP listener and the admin listener (its own port,
 * loopback by default). The binding is unbound in Coordinated
 * Shutdown, letting requests in flight finish; a failed bind terminates the system.
 */
public final class Gateway {
  private static final Logger log = LoggerFactory.getLogger(Gateway.class);

  private Gateway() {}

  /** The two listeners of a gateway: inference (TF Serving REST) and admin. */
  public record Bindings(ServerBinding inference, ServerBinding admin) {}

  public static CompletionStage<Bindings> start(ActorSystem<?> system, GatewaySettings settings) {
    ModelRouter router = ModelRouter.start(system);
    Materializer materializer = Materializer.matFromSystem(system);
    Admission admission = new Admission(Admission.Settings.fromConfig(
        system.settings().config().getConfig("shardserve.gateway.admission")), System::nanoTime, router::replicas);
    TfServingApi tfServing = new TfServingApi(router, admission, settings, materializer);
    AdminApi admin = new AdminApi(router, new DesiredStateStore(system, settings.controlTimeout()),
        ModelConfigSource.of(system.settings().config(), System.getenv()), settings.controlTimeout(), materializer);
    ServerSettings server = ServerSettings.create(system.classicSystem())
        .withParserSettings(ParserSettings.forServer(system).withMaxContentLength(settings.maxRequestBytes()));
    CompletionStage<ServerBinding> inference = bind(system, "inference API (TF Serving REST v1)", settings.host(),
        settings.port(), server, request -> handle(tfServing::handle, materializer, request, "/v1/"));
    CompletionStage<ServerBinding> adminBinding = bind(system, "admin API", settings.adminHost(),
        settings.adminPort(), server, request -> handle(admin::handle, materializer, request, "/admin/"));
    return inference.thenCombine(adminBinding, Bindings::new);
  }

  private static CompletionStage<ServerBinding> bind(ActorSystem<?> system, String what, String host, int port,
      ServerSettings server, akka.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> handler) {
    return PlainFutures.of(Http.get(system).newServerAt(host, port)
        .withSettings(server)
        .bind(handler)
        .whenComplete((binding, error) -> {
          if (error != null) {
            log.error("cannot bind the {} to {}:{}: {}", what, host, port, error.toString());
            system.terminate();
          } else {
            binding.addToCoordinatedShutdown(DrainTimeout.fromConfig(system.settings().config()).value(), system);
            log.info("{} listening on {}", what, binding.localAddress());
          }
        }));
  }

  private static CompletionStage<HttpResponse> handle(
      java.util.function.Function<HttpRequest, CompletionStage<HttpResponse>> api, Materializer materializer,
      HttpRequest request, String prefix) {
    CompletionStage<HttpResponse> response;
    try {
      response = request.getUri().path().startsWith(prefix) ? api.apply(request)
          : CompletableFuture.completedFuture(notFound(request, materializer));
    } catch (RuntimeException e) {
      response = CompletableFuture.failedFuture(e);
    }
    return response.exceptionally(e -> {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      log.warn("request {} {} failed: {}", request.method().value(), request.getUri().path(), cause.toString());
      return HttpErrors.of(StatusCodes.INTERNAL_SERVER_ERROR, "internal error: " + cause.getMessage());
    });
  }

  private static HttpResponse notFound(HttpRequest request, Materializer materializer) {
    dev.shardserve.gateway.tfserving.Bodies.discard(request, materializer);
    return HttpErrors.of(StatusCodes.NOT_FOUND, "Not found: " + request.method().value() + " "
        + request.getUri().path());
  }
}
