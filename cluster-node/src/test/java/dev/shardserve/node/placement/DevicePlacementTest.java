package dev.shardserve.node.placement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shardserve.desired.Device;
import dev.shardserve.node.placement.ReplicaAllocationStrategy.NodeCapacity;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** The allocation strategy's rules with fake GPU nodes: a gpu model only on nodes with role gpu. */
class DevicePlacementTest {
  static final NodeCapacity CPU4 = new NodeCapacity(4, false);
  static final NodeCapacity GPU1 = new NodeCapacity(2 + 4, true);
  static final Function<String, Device> DEVICES = model -> model.startsWith("gpu") ? Device.GPU : Device.ANY;

  static Map<String, List<String>> nodes(String... names) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (String n : names) {
      out.put(n, new ArrayList<>());
    }
    return out;
  }

  @Test
  void aGpuModel_goesOnlyToGpuNodes_keepingItsReplicasApart() {
    Map<String, List<String>> nodes = nodes("cpu-a", "cpu-b", "gpu-a", "gpu-b");
    Map<String, NodeCapacity> cap = Map.of("cpu-a", CPU4, "cpu-b", CPU4, "gpu-a", GPU1, "gpu-b", GPU1);
    nodes.get("gpu-a").addAll(List.of("x#0", "y#0", "z#0")); // GPU nodes more loaded than the empty CPU ones
    nodes.get("gpu-b").addAll(List.of("x#1", "y#1"));
    String first = ReplicaAllocationStrategy.allocate("gpumodel#0", nodes, cap, DEVICES);
    assertEquals("gpu-b", first, "the less loaded GPU node, not an empty CPU node");
    nodes.get(first).add("gpumodel#0");
    assertEquals("gpu-a", ReplicaAllocationStrategy.allocate("gpumodel#1", nodes, cap, DEVICES),
        "its second replica on the other GPU node");
    assertTrue(ReplicaAllocationStrategy.allocate("plain#0", nodes, cap, DEVICES).startsWith("cpu"),
        "a model of device any goes to the least loaded node");
  }

  @Test
  void withNoGpuNode_aGpuModelIsAllocatedAsAnyOther_andMovedOnceAGpuNodeIsUp() {
    Map<String, List<String>> nodes = nodes("cpu-a", "cpu-b");
    Map<String, NodeCapacity> cap = new LinkedHashMap<>(Map.of("cpu-a", CPU4, "cpu-b", CPU4));
    String home = ReplicaAllocationStrategy.allocate("gpumodel#0", nodes, cap, DEVICES);
    nodes.get(home).add("gpumodel#0");
    nodes.get(home.equals("cpu-a") ? "cpu-b" : "cpu-a").add("plain#0");
    assertEquals(Set.of(), ReplicaAllocationStrategy.rebalance(nodes, cap, DEVICES), "balanced: nothing to move");
    nodes.put("gpu-a", new ArrayList<>());
    cap.put("gpu-a", GPU1);
    assertEquals(Set.of("gpumodel#0"), ReplicaAllocationStrategy.rebalance(nodes, cap, DEVICES),
        "the misplaced gpu replica moves first");
    nodes.get(home).remove("gpumodel#0");
    assertEquals("gpu-a", ReplicaAllocationStrategy.allocate("gpumodel#0", nodes, cap, DEVICES));
  }

  @Test
  void rebalancing_neverPicksAGpuShard_forALeastLoadedCpuNode() {
    Map<String, List<String>> nodes = nodes("gpu-a", "gpu-b", "cpu-a");
    Map<String, NodeCapacity> cap = Map.of("gpu-a", GPU1, "gpu-b", GPU1, "cpu-a", CPU4);
    for (int i = 0; i < 12; i++) {
      nodes.get("gpu-a").add("gpu" + i + "#0"); // only gpu models, all on one GPU node
    }
    Set<String> move = ReplicaAllocationStrategy.rebalance(nodes, cap, DEVICES);
    assertEquals(1, move.size());
    String shard = move.iterator().next();
    nodes.get("gpu-a").remove(shard);
    assertEquals("gpu-b", ReplicaAllocationStrategy.allocate(shard, nodes, cap, DEVICES),
        "it moves to the other GPU node, not to the empty CPU node");
  }

  @Test
  void replicasThatHadToShareANode_areSeparated_onceAnotherNodeCanTakeOne() {
    Map<String, List<String>> nodes = nodes("gpu-a");
    Map<String, NodeCapacity> cap = new LinkedHashMap<>(Map.of("gpu-a", GPU1));
    for (String shard : List.of("gpumodel#0", "gpumodel#1", "plain#0", "plain#1")) {
      nodes.get(ReplicaAllocationStrategy.allocate(shard, nodes, cap, DEVICES)).add(shard);
    }
    assertEquals(4, nodes.get("gpu-a").size(), "one node: the replicas share it");
    nodes.put("cpu-a", new ArrayList<>());
    cap.put("cpu-a", CPU4);
    assertEquals(Set.of("plain#1"), ReplicaAllocationStrategy.rebalance(nodes, cap, DEVICES),
        "the plain model's second replica can go to the new CPU node; the gpu model's cannot");
    nodes.put("gpu-b", new ArrayList<>());
    cap.put("gpu-b", GPU1);
    assertEquals(Set.of("gpumodel#1", "plain#1"), ReplicaAllocationStrategy.rebalance(nodes, cap, DEVICES));
  }
}
