package dev.shardserve.deploy;

import akka.actor.typed.ActorSystem;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.gateway.Gateway;
import dev.shardserve.gateway.GatewaySettings;
import dev.shardserve.node.NodeSettings;
import dev.shardserve.node.WorkerNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** A standalone server (worker + gateway) in this JVM, on ephemeral ports, as {@code standalone} starts it. */
final class InProcessServer implements AutoCloseable {
  final ActorSystem<Void> system;
  final int port;
  final int adminPort;
  /** The metrics listener's port, or -1 when it was not started (only with shardserve.metrics.port in the config). */
  final int metricsPort;
  final Gateway.Bindings bindings;
  /** The gRPC listener's port, or -1 when turned off. */
  final int grpcPort;
  final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  InProcessServer(Path repo, Map<String, Object> extraConfig) {
    this(repo, extraConfig, true);
  }

  /** With {@code worker} false, a gateway alone: a cluster without any worker node. */
  InProcessServer(Path repo, Map<String, Object> extraConfig, boolean worker) {
    Map<String, Object> config = new java.util.HashMap<>(Map.of(
        "akka.remote.artery.canonical.port", 0,
        "akka.cluster.roles", worker ? List.of("worker", "gateway") : List.of("gateway"),
        "shardserve.node.model-repository", repo.toAbsolutePath().toString(),
        "shardserve.gateway.host", "127.0.0.1",
        "shardserve.gateway.port", 0,
        "shardserve.gateway.grpc.port", 0,
        "shardserve.gateway.grpc.host", "127.0.0.1",
        "shardserve.gateway.admin-port", 0,
        "shardserve.node.repository-poll-interval", "200ms"));
    config.putAll(extraConfig);
    system = Processes.system(ConfigFactory.parseMap(config));
    Processes.joinSelf(system);
    Processes.seedDesiredState(system);
    if (worker) {
      Processes.await(WorkerNode.start(system, NodeSettings.fromConfig(system.settings().config())), "catalog");
    }
    bindings = Processes.await(
        Gateway.start(system, GatewaySettings.fromConfig(system.settings().config())), "bind");
    port = bindings.inference().localAddress().getPort();
    adminPort = bindings.admin().localAddress().getPort();
    if (extraConfig.containsKey("shardserve.metrics.port")) {
      dev.shardserve.metrics.ShardServeMetrics metrics = dev.shardserve.metrics.ShardServeMetrics.get(system);
      metricsPort = Processes.await(dev.shardserve.gateway.metrics.MetricsListener.start(system, metrics.settings()),
          "bind metrics").localAddress().getPort();
    } else {
      metricsPort = -1;
    }
    grpcPort = bindings.grpc() == null ? -1 : bindings.grpc().port();
  }

  /** The gRPC services of this server's gateway, to mount on an in-process gRPC server. */
  dev.shardserve.gateway.grpc.GrpcServer.Services grpcServices() {
    return bindings.grpc().services();
  }

  /** GET on the metrics listener. */
  HttpResponse<String> metrics(String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + path))
        .timeout(Duration.ofSeconds(60));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return client.send(b.GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  /** A request to the admin listener. */
  HttpResponse<String> admin(String method, String path, String body) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
            .timeout(Duration.ofSeconds(60))
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
            .build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> get(String path) throws Exception {
    return client.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(60)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> post(String path, String body) throws Exception {
    return client.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(60))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return client.send(request.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Override
  public void close() {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().join();
  }
}
