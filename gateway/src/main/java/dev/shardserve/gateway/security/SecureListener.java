package dev.shardserve.gateway.security;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.ServerBuilder;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.settings.ServerSettings;
import dev.shardserve.concurrent.PlainFutures;
import dev.shardserve.gateway.errors.ProtocolErrorHandler;
import dev.shardserve.settings.DrainTimeout;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binds one HTTP listener of a process the secure way, in one call: HTTPS when TLS is configured,
 * every request through the listener's {@link HttpGate} (admin write guard, authentication and
 * scopes) before the handler sees it, the unbind in Coordinated Shutdown, and a failed bind
 * terminating the system. Every HTTP listener (inference, admin, node admin, metrics) binds here.
 */
public final class SecureListener {
  private static final Logger log = LoggerFactory.getLogger(SecureListener.class);

  private SecureListener() {}

  public static CompletionStage<ServerBinding> bind(ActorSystem<?> system, String what, Listener listener,
      String host, int port, ServerSettings settings,
      akka.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> handler) {
    return bind(system, what, listener, host, port, settings, handler, true);
  }

  /**
   * As above; with {@code essential} false a failed bind is logged and the process goes on (the
   * metrics listener: inference does not depend on it).
   */
  public static CompletionStage<ServerBinding> bind(ActorSystem<?> system, String what, Listener listener,
      String host, int port, ServerSettings settings,
      akka.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> handler, boolean essential) {
    Security security = Security.get(system);
    HttpGate gate = security.gate(listener, host);
    ServerBuilder builder = Http.get(system).newServerAt(host, port).withSettings(privateAndStrict(settings));
    if (security.tls().isPresent()) {
      builder = builder.enableHttps(security.tls().get().httpsContext());
    }
    String scheme = security.tls().isPresent() ? "https" : "http";
    akka.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> gated = request -> {
      Optional<HttpResponse> refused = gate.check(request);
      if (refused.isPresent()) {
        if (!request.entity().isStrict()) {
          request.discardEntityBytes(system); // so that the connection can carry the next request
        }
        return CompletableFuture.completedFuture(refused.get());
      }
      return handler.apply(request);
    };
    return PlainFutures.of(builder.bind(gated).whenComplete((binding, error) -> {
      if (error != null) {
        log.error("cannot bind the {} to {}:{}: {}", what, host, port, error.toString());
        if (essential) {
          system.terminate();
        }
      } else {
        binding.addToCoordinatedShutdown(DrainTimeout.fromConfig(system.settings().config()).value(), system);
        log.info("{} listening on {}://{}:{}", what, scheme, binding.localAddress().getHostString(),
            binding.localAddress().getPort());
      }
    }));
  }

  /**
   * Requests too malformed to reach a route are answered by {@link ProtocolErrorHandler} (JSON,
   * 400 rather than 501/505); Akka HTTP's warnings about illegal headers and its parse-error logs
   * are off, since they quote the offending header or input (an {@code Authorization} value, say).
   */
  static ServerSettings privateAndStrict(ServerSettings settings) {
    return settings.withParsingErrorHandler(ProtocolErrorHandler.class.getName())
        .withParserSettings(settings.getParserSettings().withIllegalHeaderWarnings(false)
            .withErrorLoggingVerbosity(akka.http.scaladsl.settings.ParserSettings.ErrorLoggingVerbosity$.MODULE$
                .apply("off")));
  }
}
