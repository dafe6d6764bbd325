package dev.shardserve.gateway.admin;

import akka.actor.typed.ActorSystem;
import akka.cluster.Member;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Leave;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.shardserve.gateway.routing.ModelRouter;
import dev.shardserve.protocol.ModelCatalog.NodeModels;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The cluster-wide node view of the admin API: every member with its roles, status,
 * reachability, advertised capacity and the replicas it hosts; and draining a node (it hands
 * its replicas off, leaves the cluster and exits, through Coordinated Shutdown on that node).
 */
final class NodesAdmin {
  private static final JsonFactory JSON = new JsonFactory();

  private final ModelRouter router;

  NodesAdmin(ModelRouter router) {
    this.router = router;
  }

  /** Hosted replicas as each worker node last published them (every poll interval, 2 s by default). */
  CompletionStage<HttpResponse> list() {
    return CompletableFuture.completedFuture(json(StatusCodes.OK, write(router.system())));
  }

  CompletionStage<HttpResponse> drain(String address) {
    ActorSystem<?> system = router.system();
    for (Member m : Cluster.get(system).state().getMembers()) {
      if (m.address().toString().equals(address)) {
        Cluster.get(system).manager().tell(Leave.create(m.address()));
        return CompletableFuture.completedFuture(json(StatusCodes.ACCEPTED,
            ("{\"draining\":\"" + address + "\"}").getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      }
    }
    throw new AdminApi.NotFound("no cluster member at '" + address + "' (GET /admin/nodes lists them)");
  }

  private byte[] write(ActorSystem<?> system) {
    var state = Cluster.get(system).state();
    Map<String, NodeModels> published = router.catalog().entries();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeArrayFieldStart("nodes");
      for (Member m : state.getMembers()) {
        g.writeStartObject();
        g.writeStringField("address", m.address().toString());
        g.writeStringField("status", m.status().toString());
        g.writeBooleanField("reachable", !state.getUnreachable().contains(m));
        g.writeArrayFieldStart("roles");
        for (String r : m.getRoles()) {
          if (!r.startsWith("dc-")) {
            g.writeString(r);
          }
        }
        g.writeEndArray();
        NodeModels n = published.get(m.address().toString());
        if (n != null) {
          g.writeObjectFieldStart("capacity");
          g.writeNumberField("cpu_slots", n.cpuSlots());
          g.writeNumberField("gpus", n.gpus());
          g.writeNumberField("gpu_memory_mib", n.gpuMemoryMiB());
          g.writeNumberField("weight", n.weight());
          g.writeEndObject();
        }
        if (n != null) {
          g.writeArrayFieldStart("replicas");
          for (String shard : n.replicas()) {
            g.writeString(shard);
          }
          g.writeEndArray();
        }
        dev.shardserve.gateway.channel.Channel ch = router.channels().get(m.address().toString());
        if (ch != null) {
          g.writeObjectFieldStart("channel");
          g.writeBooleanField("usable", ch.usable());
          g.writeNumberField("frames_sent", ch.framesSent());
          g.writeNumberField("requests_sent", ch.requestsSent());
          g.writeNumberField("requests_in_flight", ch.inFlight());
          g.writeEndObject();
        }
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static HttpResponse json(akka.http.javadsl.model.StatusCode status, byte[] body) {
    return HttpResponse.create().withStatus(status).withEntity(ContentTypes.APPLICATION_JSON, body);
  }
}
