package dev.shardserve.gateway.metrics;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.stream.Materializer;
import akka.http.javadsl.settings.ServerSettings;
import dev.shardserve.gateway.security.Listener;
import dev.shardserve.gateway.security.SecureListener;
import dev.shardserve.gateway.tfserving.Bodies;
import dev.shardserve.metrics.MetricsSettings;
import dev.shardserve.metrics.ShardServeMetrics;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

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

  /**
   * Binds the listener through {@link SecureListener} (TLS and the {@code metrics} scope like every
   * listener); the stage fails when the port cannot be bound (logged). Unlike the inference
   * listeners, a failed bind does not stop the process: inference does not depend on it.
   */
  public static CompletionStage<ServerBinding> start(ActorSystem<?> system, MetricsSettings settings) {
    if (!settings.listenerEnabled()) {
      throw new IllegalArgumentException("the metrics listener is off (shardserve.metrics.port = -1)");
    }
    return SecureListener.bind(system, "metrics listener (GET /metrics)", Listener.METRICS, settings.host(),
        settings.port(), ServerSettings.create(system.classicSystem()), handler(system), false);
  }
}
