package dev.shardserve.deploy;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.cluster.typed.Cluster;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpMethods;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.stream.Materializer;
import akka.http.javadsl.settings.ServerSettings;
import dev.shardserve.gateway.errors.HttpErrors;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.gateway.security.Listener;
import dev.shardserve.gateway.security.SecureListener;
import dev.shardserve.gateway.tfserving.Bodies;
import dev.shardserve.node.NodeStatus;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A worker node's own admin listener: {@code GET /admin/node} (address, roles, status) and
 * {@code POST /admin/drain}: the node stops taking new work, its replicas finish what they hold
 * and hand their shards off (Coordinated Shutdown: sharding handoff, then leaving the cluster),
 * and the process exits. The gateway's {@code POST /admin/nodes/{address}/drain} does the same
 * from the cluster side.
 */
final class NodeAdmin {
  private NodeAdmin() {}

  /** A Coordinated Shutdown reason for a drain asked through the admin API. */
  static final CoordinatedShutdown.Reason DRAIN = new CoordinatedShutdown.Reason() {
    @Override
    public String toString() {
      return "drain requested through the admin API";
    }
  };

  /** Bound through {@link SecureListener}: TLS, the admin scope and the admin write guard as every admin listener. */
  static CompletionStage<ServerBinding> start(ActorSystem<?> system, String host, int port) {
    Materializer materializer = Materializer.matFromSystem(system);
    return SecureListener.bind(system, "node admin API", Listener.ADMIN, host, port,
        ServerSettings.create(system.classicSystem()), request -> {
          Bodies.discard(request, materializer);
          return CompletableFuture.completedFuture(handle(system, request));
        });
  }

  private static HttpResponse handle(ActorSystem<?> system, HttpRequest request) {
    String path = request.getUri().path();
    if (path.equals("/admin/node")) {
      if (!request.method().equals(HttpMethods.GET)) {
        return HttpErrors.of(ErrorCode.METHOD_NOT_ALLOWED, request.method().value() + " is not allowed on " + path);
      }
      return json(info(system));
    }
    if (path.equals("/admin/drain")) {
      if (!request.method().equals(HttpMethods.POST)) {
        return HttpErrors.of(ErrorCode.METHOD_NOT_ALLOWED, request.method().value() + " is not allowed on " + path
            + ": use POST");
      }
      system.log().info("drain requested: handing shards off, leaving the cluster, then exiting");
      CoordinatedShutdown.get(system.classicSystem()).run(DRAIN);
      return HttpResponse.create().withStatus(StatusCodes.ACCEPTED).withEntity(ContentTypes.APPLICATION_JSON,
          ("{\"draining\":\"" + Cluster.get(system).selfMember().address() + "\"}").getBytes(StandardCharsets.UTF_8));
    }
    return HttpErrors.of(ErrorCode.NOT_FOUND, "Not found: " + request.method().value() + " " + path);
  }

  private static String info(ActorSystem<?> system) {
    var self = Cluster.get(system).selfMember();
    StringBuilder roles = new StringBuilder();
    for (String r : self.getRoles()) {
      if (!r.startsWith("dc-")) {
        roles.append(roles.length() == 0 ? "" : ",").append('"').append(r).append('"');
      }
    }
    return "{\"address\":\"" + self.address() + "\",\"status\":\"" + self.status() + "\",\"roles\":[" + roles
        + "],\"worker_started\":" + NodeStatus.get(system).workerStarted.get()
        + ",\"repository_error\":" + NodeStatus.get(system).repositoryError().map(NodeAdmin::quoted).orElse("null")
        + "}";
  }

  /** A JSON string (an I/O error's message may hold quotes, backslashes or control characters). */
  static String quoted(String text) {
    StringBuilder sb = new StringBuilder("\"");
    for (char c : text.toCharArray()) {
      if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else if (c < 0x20) {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.append('"').toString();
  }

  private static HttpResponse json(String body) {
    return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, body.getBytes(StandardCharsets.UTF_8));
  }
}
