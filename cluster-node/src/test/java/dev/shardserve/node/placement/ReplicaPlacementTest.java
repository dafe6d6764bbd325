package dev.shardserve.node.placement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ReplicaPlacementTest {
  static Map<String, List<String>> nodes(String... names) {
    Map<String, List<String>> m = new LinkedHashMap<>();
    for (String n : names) {
      m.put(n, new ArrayList<>());
    }
    return m;
  }

  static void place(Map<String, List<String>> nodes, Map<String, Double> weights, String shard) {
    nodes.get(ReplicaPlacement.allocate(shard, nodes, weights)).add(shard);
  }

  @Test
  void replicasOfOneModel_goToDifferentNodes_whileThereAreEnough() {
    Map<String, List<String>> n = nodes("a", "b", "c");
    place(n, Map.of(), "m#0");
    place(n, Map.of(), "x#0");
    place(n, Map.of(), "m#1");
    place(n, Map.of(), "m#2");
    for (List<String> shards : n.values()) {
      assertEquals(1, shards.stream().filter(s -> s.startsWith("m#")).count(), n.toString());
    }
    place(n, Map.of(), "m#3"); // four replicas, three nodes: one node gets two
    assertEquals(5, n.values().stream().mapToInt(List::size).sum());
  }

  @Test
  void capacityWeights_areHonoured() {
    Map<String, List<String>> n = nodes("big", "small");
    Map<String, Double> w = Map.of("big", 3.0, "small", 1.0);
    for (int i = 0; i < 8; i++) {
      place(n, w, "model" + i + "#0");
    }
    assertEquals(6, n.get("big").size(), n.toString());
    assertEquals(2, n.get("small").size(), n.toString());
  }

  @Test
  void rebalance_movesOneShardAtATime_toTheNewNode_keepingAntiAffinity() {
    Map<String, List<String>> n = nodes("a", "b");
    for (String model : List.of("m", "x", "y")) {
      place(n, Map.of(), model + "#0");
      place(n, Map.of(), model + "#1");
    }
    n.put("c", new ArrayList<>()); // a third node joins
    int moves = 0;
    for (Set<String> move; !(move = ReplicaPlacement.rebalance(n, Map.of())).isEmpty(); moves++) {
      assertEquals(1, move.size(), "one shard per round");
      String shard = move.iterator().next();
      n.values().forEach(l -> l.remove(shard));
      place(n, Map.of(), shard);
      assertTrue(moves < 10, "converges");
    }
    assertEquals(List.of(2, 2, 2), n.values().stream().map(List::size).toList(), n.toString());
    for (List<String> shards : n.values()) {
      assertEquals(shards.size(), shards.stream().map(s -> s.substring(0, s.indexOf('#'))).distinct().count(),
          "no node holds two replicas of one model: " + n);
    }
  }

  @Test
  void balancedNodes_areLeftAlone() {
    Map<String, List<String>> n = nodes("a", "b");
    n.get("a").add("m#0");
    n.get("b").add("m#1");
    n.get("a").add("x#0");
    assertEquals(Set.of(), ReplicaPlacement.rebalance(n, Map.of()), "2 vs 1: moving one only swaps the imbalance");
  }

  @Test
  void rebalance_neverMovesAStatefulReplica_andMovesAnotherOneInstead() {
    Map<String, List<String>> n = nodes("a", "b");
    n.get("a").addAll(List.of("counter#0", "m#0", "x#0"));
    java.util.function.Predicate<String> stateful = s -> s.startsWith("counter#");
    assertEquals(Set.of("m#0"), ReplicaPlacement.rebalance(n, Map.of(), stateful),
        "the first candidate in order is the stateful replica: another one moves");
    n.get("a").clear();
    n.get("a").addAll(List.of("counter#0", "session#0"));
    assertEquals(Set.of(), ReplicaPlacement.rebalance(n, Map.of(), s -> s.startsWith("counter#")
        || s.startsWith("session#")), "only stateful replicas could move: nothing moves");
  }
}
