package dev.shardserve.gateway.grpc;

import dev.shardserve.gateway.routing.ModelRouter;
import dev.shardserve.gateway.routing.RoutingSnapshot;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What {@code grpc.health.v1.Health} answers, refreshed from the routing snapshot: service
 * {@code ""} (and each of our gRPC service names) is SERVING once a worker node has joined, a
 * model's name is SERVING while the model can be routed and NOT_SERVING after it stopped being
 * routable; a name never served is unknown (NOT_FOUND). On shutdown everything turns NOT_SERVING
 * before the listener stops taking calls, so load balancers move away first.
 */
final class ModelHealth {
  private final HealthStatusManager manager = new HealthStatusManager();
  private final ModelRouter router;
  private final List<String> services;
  private final Set<String> models = new HashSet<>();
  private boolean terminal;

  ModelHealth(ModelRouter router, List<String> services) {
    this.router = router;
    this.services = services;
    refresh();
  }

  HealthStatusManager manager() {
    return manager;
  }

  /** Reads the routing snapshot and updates every status that changed. */
  synchronized void refresh() {
    if (terminal) {
      return;
    }
    RoutingSnapshot snapshot = router.snapshot();
    ServingStatus server = snapshot.workersJoined() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    manager.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, server);
    for (String service : services) {
      manager.setStatus(service, server);
    }
    Set<String> routed = snapshot.routes().keySet();
    for (String model : routed) {
      manager.setStatus(model, ServingStatus.SERVING);
    }
    for (String model : models) {
      if (!routed.contains(model)) {
        manager.setStatus(model, ServingStatus.NOT_SERVING);
      }
    }
    models.addAll(routed);
  }

  /** Everything NOT_SERVING from now on. */
  synchronized void terminate() {
    terminal = true;
    manager.enterTerminalState();
  }
}
