package dev.shardserve.gateway.routing;

import dev.shardserve.desired.DesiredState;
import dev.shardserve.metrics.ModelMetrics;
import java.util.Map;
import java.util.Set;

/**
 * What the request path needs from the cluster, frozen: which models can be routed, how many
 * replicas each has, which of them sit on nodes that are going (leaving, down, unreachable), and
 * each model's settings. {@link RoutingTable} rebuilds it on every cluster, catalog and desired
 * state event; a request reads it with one volatile load and derives nothing per request.
 *
 * @param workersJoined true once some worker node is a member (else requests get a fast 503)
 * @param catalogHeard true once the model catalog holds an entry of a live worker node: before,
 *     this gateway cannot tell an unknown model from one it has not heard of yet (a fast 503)
 * @param workersUp worker nodes that count for automatic replica counts (joined and not removed:
 *     leaving, unreachable and downed ones count until they are removed)
 * @param desiredKnown true once the desired state was read (or known to be absent): until then a
 *     model's settings (stateful or not) are unknown, and its requests are not retried
 */
public record RoutingSnapshot(boolean workersJoined, boolean catalogHeard, int workersUp, boolean desiredKnown,
    DesiredState desired,
    Map<String, Route> routes) {

  /**
   * A model that can be routed: replicas {@code 0..replicas-1}; {@code hosts[r]} is the address of
   * the node that last published replica r (null when none has), for the channel to it.
   * {@code wanted} is the count its settings ask for now; {@code replicas} may be higher while a
   * node still serves a replica beyond it (the cluster shrank), and such a replica's "not found"
   * is a count disagreement, retried like UNAVAILABLE (a node of the previous release answers so).
   */
  public record Route(String model, int replicas, int wanted, boolean stateful, long requestTimeoutMillis,
      Set<Integer> avoid, boolean retry, String[] hosts, ModelMetrics metrics) {
    /** The node hosting replica {@code r} as the catalog says, or null. */
    public String host(int r) {
      return r >= 0 && r < hosts.length ? hosts[r] : null;
    }
  }

  static final RoutingSnapshot EMPTY = new RoutingSnapshot(false, false, 0, false, DesiredState.INITIAL, Map.of());

  /** The route of {@code model}, or null when no live worker has published it. */
  public Route route(String model) {
    return routes.get(model);
  }
}
