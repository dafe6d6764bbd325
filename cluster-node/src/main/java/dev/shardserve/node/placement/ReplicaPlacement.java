package dev.shardserve.node.placement;

import dev.shardserve.sharding.EntityIds;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where replicas go, as pure functions over "node → the shards it holds" (one shard per replica,
 * {@code model#r}) and each node's weight, so that the rules are tested without a cluster:
 * <ul>
 *   <li><b>allocate</b>: to a node that holds no replica of the same model (anti-affinity) while
 *       there is one, and among those the one with the lowest load {@code (shards + 1) / weight};</li>
 *   <li><b>rebalance</b>: at most one shard per round, from the most to the least loaded node, and
 *       only when the move makes the spread better and keeps anti-affinity: rebalancing is
 *       gradual and never moves all replicas of a model at once. A <b>pinned</b> shard (the
 *       replica of a stateful model, whose state a move would lose) is never chosen: it moves
 *       only when its node drains or crashes.</li>
 * </ul>
 *
 * @param <N> a node (a shard region)
 */
public final class ReplicaPlacement {
  private ReplicaPlacement() {}

  /** The node for {@code shard}; {@code nodes} is not empty. */
  public static <N> N allocate(String shard, Map<N, List<String>> nodes, Map<N, Double> weights) {
    String model = EntityIds.model(shard);
    N best = null;
    double bestLoad = Double.MAX_VALUE;
    boolean bestHasSibling = true;
    for (Map.Entry<N, List<String>> e : nodes.entrySet()) {
      boolean hasSibling = holdsModel(e.getValue(), model);
      double load = (e.getValue().size() + 1) / weights.getOrDefault(e.getKey(), 1.0);
      if (best == null || (bestHasSibling && !hasSibling) || (hasSibling == bestHasSibling && load < bestLoad)) {
        best = e.getKey();
        bestLoad = load;
        bestHasSibling = hasSibling;
      }
    }
    return best;
  }

  /** One shard to move now, or none. */
  public static <N> Set<String> rebalance(Map<N, List<String>> nodes, Map<N, Double> weights) {
    return rebalance(nodes, weights, shard -> false);
  }

  /** One shard to move now, or none; a shard for which {@code pinned} is true is never moved. */
  public static <N> Set<String> rebalance(Map<N, List<String>> nodes, Map<N, Double> weights,
      java.util.function.Predicate<String> pinned) {
    if (nodes.size() < 2) {
      return Set.of();
    }
    List<N> byLoad = new ArrayList<>(nodes.keySet());
    byLoad.sort((a, b) -> Double.compare(load(nodes, weights, a), load(nodes, weights, b)));
    N least = byLoad.get(0);
    N most = byLoad.get(byLoad.size() - 1);
    double wLeast = weights.getOrDefault(least, 1.0);
    double wMost = weights.getOrDefault(most, 1.0);
    int onMost = nodes.get(most).size();
    int onLeast = nodes.get(least).size();
    // Moving one shard must leave the receiver less loaded than the giver was: otherwise it
    // would only swap the imbalance (and a later round would move it back).
    if (onMost == 0 || (onLeast + 1) / wLeast >= onMost / wMost) {
      return Set.of();
    }
    List<String> candidates = new ArrayList<>(nodes.get(most));
    Collections.sort(candidates);
    for (String shard : candidates) {
      if (!pinned.test(shard) && !holdsModel(nodes.get(least), EntityIds.model(shard))) {
        return Set.of(shard);
      }
    }
    return Set.of();
  }

  private static <N> double load(Map<N, List<String>> nodes, Map<N, Double> weights, N n) {
    return nodes.get(n).size() / weights.getOrDefault(n, 1.0);
  }

  private static boolean holdsModel(List<String> shards, String model) {
    for (String s : shards) {
      if (EntityIds.model(s).equals(model)) {
        return true;
      }
    }
    return false;
  }
}
