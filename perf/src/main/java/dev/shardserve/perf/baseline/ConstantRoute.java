package dev.shardserve.perf.baseline;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.http.javadsl.Http;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.stream.Materializer;
import akka.util.ByteString;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.gateway.tfserving.Bodies;
import dev.shardserve.settings.ShardServeConfig;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * The HTTP ceiling: a bare Akka HTTP server, with the gateway's HTTP settings, that reads each
 * request's whole body the way the gateway does ({@link Bodies}: a strict entity's bytes taken
 * directly, never a {@code toStrict} stream nor a callback on the common pool) and answers a
 * constant predict response. What the gateway costs beyond this is our own work.
 *
 * <pre>java -cp shardserve.jar:shardserve-perf.jar dev.shardserve.perf.baseline.ConstantRoute --port 8601</pre>
 */
public final class ConstantRoute {
  private ConstantRoute() {}

  public static void main(String[] argv) {
    Map<String, String> a = TfModel.args(argv);
    int port = Integer.parseInt(a.getOrDefault("port", "8601"));
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "constant",
        ShardServeConfig.load(ConfigFactory.parseString("akka.actor.provider = local")));
    ByteString answer = ByteString.fromString("{\"predictions\": [2.5]}");
    long strictTimeoutMillis = 10_000;
    akka.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> handler =
        request -> respond(request, answer, strictTimeoutMillis, system);
    Http.get(system).newServerAt("127.0.0.1", port).bind(handler)
        .thenAccept(b -> System.out.println("constant route on " + b.localAddress()));
  }

  private static CompletionStage<HttpResponse> respond(HttpRequest request, ByteString answer, long timeout,
      ActorSystem<Void> system) {
    return Bodies.read(request, Duration.ofMillis(timeout), 64L << 20, Materializer.matFromSystem(system))
        .thenApply(body -> HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, answer)));
  }
}
