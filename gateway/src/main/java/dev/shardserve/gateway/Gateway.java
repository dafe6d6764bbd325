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
import dev.shardserve.gateway.errors.HttpErrors;
import dev.shardserve.gateway.routing.ModelRouter;
import dev.shardserve.gateway.tfserving.TfServingApi;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the front door of a process: the route to model shards (a sharding proxy where this
 * node hosts no models) and the inference HTTP listener. The binding is unbound in Coordinated
 * Shutdown, letting requests in flight finish; a failed bind terminates the system.
 */
public final class Gateway {
  private static final Logger log = LoggerFactory.getLogger(Gateway.class);

  private Gateway() {}

  public static CompletionStage<ServerBinding> start(ActorSystem<?> system, GatewaySettings settings) {
    ModelRouter router = ModelRouter.start(system);
    Materializer materializer = Materializer.matFromSystem(system);
    TfServingApi tfServing = new TfServingApi(router, settings, materializer);
    ServerSettings server = ServerSettings.create(system.classicSystem())
        .withParserSettings(ParserSettings.forServer(system).withMaxContentLength(settings.maxRequestBytes()));
    return Http.get(system).newServerAt(settings.host(), settings.port())
        .withSettings(server)
        .bind((akka.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>>)
            request -> handle(tfServing, materializer, request))
        .whenComplete((binding, error) -> {
          if (error != null) {
            log.error("cannot bind the inference listener to {}:{}: {}", settings.host(), settings.port(),
                error.toString());
            system.terminate();
          } else {
            binding.addToCoordinatedShutdown(Duration.ofSeconds(10), system);
            log.info("inference API (TF Serving REST v1) listening on {}", binding.localAddress());
          }
        });
  }

  private static CompletionStage<HttpResponse> handle(TfServingApi tfServing, Materializer materializer,
      HttpRequest request) {
    CompletionStage<HttpResponse> response;
    try {
      response = request.getUri().path().startsWith("/v1/") ? tfServing.handle(request)
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
    request.discardEntityBytes(materializer);
    return HttpErrors.of(StatusCodes.NOT_FOUND, "Not found: " + request.method().value() + " "
        + request.getUri().path());
  }
}
