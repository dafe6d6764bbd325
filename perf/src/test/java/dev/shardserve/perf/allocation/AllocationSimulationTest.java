package dev.shardserve.perf.allocation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shardserve.desired.Device;
import dev.shardserve.sharding.EntityIds;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The placement simulation's invariants at a small size, over several seeds. */
class AllocationSimulationTest {
  @Test
  void everyReplicaIsPlacedOnce_apart_gpuModelsOnGpuNodes_andLossesMoveOnlyTheLostReplicas() {
    for (long seed = 1; seed <= 5; seed++) {
      AllocationSimulation.Settings s = new AllocationSimulation.Settings(12, 60, 2, 3, 3, 0.3, 0.2, seed, 10_000);
      AllocationSimulation sim = new AllocationSimulation(s);
      AllocationSimulation.Result r = sim.run();
      Set<String> seen = new HashSet<>();
      for (Map.Entry<String, List<String>> e : sim.nodes().entrySet()) {
        for (String shard : e.getValue()) {
          assertTrue(seen.add(shard), shard + " is placed twice (seed " + seed + ")");
          if (sim.deviceOf(EntityIds.model(shard)) == Device.GPU) {
            assertTrue(sim.capacity().get(e.getKey()).gpu(), shard + " of a gpu model on " + e.getKey());
          }
        }
      }
      assertEquals(60 * 2, seen.size(), "every replica is placed (seed " + seed + ")");
      for (AllocationSimulation.Phase p : r.phases()) {
        if (p.gpuNodes() >= 2) { // else a gpu model's two replicas have one node to share
          assertEquals(0, p.violations(), p + ": no node holds two replicas of one model (seed " + seed + ")");
        }
        assertEquals(0, p.misplacedGpu(), p.name());
        if (p.name().startsWith("loss")) {
          assertTrue(p.moved() >= p.minimum(), p.toString());
          assertTrue(p.moved() <= p.minimum() * 3 / 2 + 5, "a loss moves little beyond the lost replicas: " + p);
        }
        if (!p.name().startsWith("initial")) {
          assertTrue(p.maxOverMean() <= 1.5, "settled spread per unit of capacity: " + p + " (seed " + seed + ")");
        }
      }
      assertEquals(2 + 3 + 3, r.phases().size());
      assertTrue(r.allocateNanos().length >= 120 && r.rebalanceNanos().length >= 3);
    }
  }

  @Test
  void theReport_namesEveryFigure() {
    AllocationSimulation.Result r = new AllocationSimulation(new AllocationSimulation.Settings(6, 20, 2, 1, 1, 0.5,
        0.1, 7, 10_000)).run();
    String md = AllocationSimulation.report(r);
    for (String s : List.of("| phase | nodes (GPU) | replicas moved | minimum | rounds to settle | anti-affinity",
        "| loss 1 (", "| join 1 (", "| allocate one shard |", "| rebalance (one round) |")) {
      assertTrue(md.contains(s), md);
    }
  }
}
