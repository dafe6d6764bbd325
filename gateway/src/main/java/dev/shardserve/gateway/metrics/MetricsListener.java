package dev.shardserve.gateway.metrics;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.stream.Materializer;
import dev.shardserve.concurrent.PlainFutures;
import dev.shardserve.gateway.tfserving.Bodies;
import dev.shardserve.metrics.MetricsSettings;
import dev.shardserve.metrics.ShardServeMetrics;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The metrics listener of a process (node, gateway, standalone): {@link MetricsEndpoint} over the
 * process's {@link ShardServeMetrics} registry, on {@code shardserve.metrics.host:port}, its own
 * port so that Prometheus can reach it while the admin listener stays on loopback (Triton keeps
 * metrics on their own port too). Served by Akka HTTP rather than the Prometheus client's JDK
 * {@code HttpServer}: same server, settings and Coordinated Shutdown as the other listeners, and
 * the authentication of the other listeners applies as one wrapper around {@link #handler}.
 * A failed bind is logged and does not stop the process (inference does not depend on it).
 */
public final class MetricsListener {
  private static final Logger log = LoggerFactory.getLogger(MetricsListener.class);

  private MetricsListener() {}

  /**
   * The handler of every request on the listener. The security issue's {@code metrics} scope
   * wraps this one function.
   */
  static akka.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> handler(ActorSystem<?> system) {
    MetricsEndpoint endpoint = MetricsEndpoint.create(ShardServeMetrics.get(system).registry());
    Materializer materializer = Materializer.matFromSystem(system);
    return request -> {
      Bodies.discard(request, materializer);
      return CompletableFuture.completedFuture(endpoint.handle(request));
    };
  }

  /** Binds the listener; the stage fails when the port cannot be bound (already logged). */
  public static CompletionStage<ServerBinding> start(ActorSystem<?> system, MetricsSettings settings) {
    if (!settings.listenerEnabled()) {
      throw new IllegalArgumentException("the metrics listener is off (shardserve.metrics.port = -1)");
    }
    return PlainFutures.of(Http.get(system).newServerAt(settings.host(), settings.port())
        .bind(handler(system))
        .whenComplete((binding, error) -> {
          if (error != null) {
            log.error("cannot bind the metrics listener to {}:{} (GET /metrics is not served): {}",
                settings.host(), settings.port(), error.toString());
          } else {
            binding.addToCoordinatedShutdown(Duration.ofSeconds(5), system);
            log.info("metrics listener (GET /metrics) on {}", binding.localAddress());
          }
        }));
  }
}
