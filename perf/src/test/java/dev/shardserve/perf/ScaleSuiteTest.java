package dev.shardserve.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shardserve.node.runtime.SimulatedSpec;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The scale suite's plans and the simulated model it writes (the runs themselves are the perf smoke test). */
class ScaleSuiteTest {
  @TempDir Path dir;

  @Test
  void theModelItWrites_isASimulatedModelTheNodesLoad() throws Exception {
    ScaleSuite.writeModel(dir.resolve("sim/1"), 12_500);
    SimulatedSpec s = SimulatedSpec.read(dir.resolve("sim/1/simulated.json"));
    assertEquals(12_500, s.batchLatencyMicros());
    assertEquals(ScaleSuite.DEVICE_BATCH, s.maxBatchSize());
    assertEquals(1, s.concurrency());
    assertEquals("x", s.outputs().get("y"));
  }

  @Test
  void plans_theFullOneMeasures1_2And4Nodes_theSmokeOne1And2() {
    assertEquals(List.of(1, 2, 4), ScaleSuite.Plan.named("scale").nodeCounts());
    assertEquals(List.of(1, 2), ScaleSuite.Plan.named("scale-smoke").nodeCounts());
    assertTrue(ScaleSuite.Plan.named("scale-smoke").windowSeconds() < ScaleSuite.Plan.named("scale").windowSeconds());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ScaleSuite.Plan.named("huge"));
    assertTrue(e.getMessage().contains("'huge'"), e.getMessage());
  }
}
