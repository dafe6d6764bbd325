package dev.shardserve.node.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shardserve.desired.Device;
import dev.shardserve.node.testing.SimulatedModels;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol.SignatureInfo;
import dev.shardserve.protocol.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A simulated model loaded from {@code simulated.json}: its signature, outputs, timing and refusals. */
class SimulatedModelTest {
  @TempDir Path dir;

  static final long MS = 1_000_000L;

  record Rows(Map<String, Tensor> inputs, int fromRow, int rows) implements RowSource {}

  private LoadedModel load(Path version, ManualClock clock) {
    return SavedModelLoader.load(version, 1, SessionSettings.callingThread().withSimulator(clock.simulator()));
  }

  @Test
  void theSignature_isServingDefault_withTheDeclaredInputsAndOutputs() {
    ManualClock clock = new ManualClock();
    try (LoadedModel m = load(SimulatedModels.write(dir.resolve("1"), 4, 1000, 10, 32, 2), clock)) {
      assertEquals("simulated", m.runtime());
      assertEquals(32, m.maxBatchSize());
      assertEquals(2, m.maxBatchesInFlight());
      SignatureInfo sig = m.signature("serving_default");
      assertEquals("tensorflow/serving/predict", sig.methodName());
      assertArrayEquals(new long[] {-1, 4}, sig.inputs().get("x").shape());
      assertEquals("DT_FLOAT", sig.outputs().get("y").dtype());
      assertTrue(m.prepared("serving_default").batchable());
      assertEquals(Map.of("x", DType.FLOAT32), m.prepared("serving_default").inputTypes());
    }
  }

  @Test
  void aBatch_copiesEachPartsRows_padsWithTheLastRow_andEndsAfterItsLatency() {
    ManualClock clock = new ManualClock();
    try (LoadedModel m = load(SimulatedModels.write(dir.resolve("1"), 2, 1000, 10, 64, 1), clock)) {
      PreparedSignature sig = m.prepared("serving_default");
      Tensor a = Tensor.ofFloats(new long[] {2, 2}, 1, 2, 3, 4);
      Tensor b = Tensor.ofFloats(new long[] {3, 2}, 5, 6, 7, 8, 9, 10);
      AtomicReference<Tensor[]> out = new AtomicReference<>();
      long t0 = clock.nanos();
      m.start(sig, List.of(new Rows(Map.of("x", a), 0, 2), new Rows(Map.of("x", b), 1, 2)), 8, false,
          (tensors, failure) -> {
            assertNull(failure);
            out.set(tensors);
          });
      assertNull(out.get(), "start returns before the device ends the batch");
      clock.advance(1000 * 1000 + 8 * 10 * 1000 - 1); // 1000 µs + 8 padded rows × 10 µs
      assertNull(out.get());
      clock.advance(1);
      assertEquals(t0 + 1080 * 1000, clock.nanos());
      Tensor y = out.get()[0];
      assertArrayEquals(new long[] {8, 2}, y.shape());
      assertArrayEquals(new float[] {1, 2, 3, 4, 7, 8, 9, 10, 9, 10, 9, 10, 9, 10, 9, 10}, y.floats());
    }
  }

  @Test
  void badInputs_areRefusedBeforeTheDevice_byTheDeclaredShape() {
    try (LoadedModel m = load(SimulatedModels.write(dir.resolve("1"), 3, 1000, 0, 64, 1), new ManualClock())) {
      InferenceException e = assertThrows(InferenceException.class, () -> m.prepared("serving_default")
          .bind(Map.of("x", Tensor.ofFloats(new long[] {1, 2}, 1, 2))));
      assertEquals(ErrorCode.INVALID_INPUT, e.code());
      assertTrue(e.getMessage().contains("expects shape [-1, 3] but got [1, 2]"), e.getMessage());
    }
  }

  @Test
  void anOutputThatDiffersFromItsInput_failsTheLoad_withTheReason() {
    Path v = SimulatedModels.writeJson(dir.resolve("1"), "{\"inputs\": {\"x\": {\"dtype\": \"DT_FLOAT\", "
        + "\"shape\": [-1, 4]}}, \"outputs\": {\"y\": {\"dtype\": \"DT_INT32\", \"shape\": [-1, 4], \"from\": \"x\"}},"
        + " \"batch_latency_us\": 100}");
    InferenceException e = assertThrows(InferenceException.class, () -> load(v, new ManualClock()));
    assertEquals(ErrorCode.MODEL_LOAD_FAILED, e.code());
    assertTrue(e.getMessage().contains("output 'y' is declared DT_INT32[-1, 4] but copies input 'x', which is "
        + "DT_FLOAT[-1, 4]"), e.getMessage());
  }

  @Test
  void missingOrBadFields_failTheLoad_namingTheField() {
    for (String[] c : new String[][] {
        {"{\"inputs\": {\"x\": {\"dtype\": \"DT_FLOAT\", \"shape\": [-1]}}, \"outputs\": {\"y\": {\"dtype\": "
            + "\"DT_FLOAT\", \"shape\": [-1], \"from\": \"x\"}}}", "missing 'batch_latency_us'"},
        {"{\"outputs\": {}, \"batch_latency_us\": 1}", "missing 'inputs'"},
        {"{\"inputs\": {\"x\": {\"dtype\": \"DT_FLOAT\", \"shape\": [-1]}}, \"outputs\": {\"y\": {\"dtype\": "
            + "\"DT_FLOAT\", \"shape\": [-1], \"from\": \"z\"}}, \"batch_latency_us\": 1}", "copies input 'z'"},
        {"{\"inputs\": {\"x\": {\"dtype\": \"DT_FLOAT\", \"shape\": [-1]}}, \"outputs\": {\"y\": {\"dtype\": "
            + "\"DT_FLOAT\", \"shape\": [-1], \"from\": \"x\"}}, \"batch_latency_us\": 1, \"concurrency\": 0}",
            "'concurrency' must be between 1 and 1024, was 0"},
        {"{\"inputs\": {\"x\": {\"dtype\": \"DT_FLOAT\", \"shape\": [-1]}}, \"outputs\": {\"y\": {\"dtype\": "
            + "\"DT_FLOAT\", \"shape\": [-1], \"from\": \"x\"}}, \"batch_latency_us\": 1, \"concurrency\": 4294967297}",
            "'concurrency' must be between 1 and 1024, was 4294967297"},
        {"{\"inputs\": {\"x\": {\"dtype\": \"DT_FLOAT\", \"shape\": [-1]}}, \"outputs\": {\"y\": {\"dtype\": "
            + "\"DT_FLOAT\", \"shape\": [-1], \"from\": \"x\"}}, \"batch_latency_us\": 1, \"latency\": 3}",
            "unknown field 'latency'"},
        {"{\"inputs\": {\"x\": {\"dtype\": \"FLOAT\", \"shape\": [-1]}}, \"outputs\": {}, \"batch_latency_us\": 1}",
            "'dtype' must be a TensorFlow dtype such as DT_FLOAT, was FLOAT"},
        {"not json", "simulated.json"}}) {
      Path v = SimulatedModels.writeJson(dir.resolve("v" + Math.abs(c[0].hashCode())), c[0]);
      InferenceException e = assertThrows(InferenceException.class, () -> load(v, new ManualClock()), c[0]);
      assertEquals(ErrorCode.MODEL_LOAD_FAILED, e.code());
      assertTrue(e.getMessage().contains(c[1]), e.getMessage() + " should contain " + c[1]);
    }
  }

  @Test
  void defaults_areMaxBatch64_concurrency1_noRowLatency() {
    SimulatedSpec s = SimulatedSpec.read(SimulatedModels.writeJson(dir.resolve("1"), "{\"inputs\": {\"x\": "
        + "{\"dtype\": \"DT_INT64\", \"shape\": [-1]}}, \"outputs\": {\"y\": {\"dtype\": \"DT_INT64\", \"shape\": "
        + "[-1], \"from\": \"x\"}}, \"batch_latency_us\": 250}").resolve("simulated.json"));
    assertEquals(64, s.maxBatchSize());
    assertEquals(1, s.concurrency());
    assertEquals(0, s.rowLatencyMicros());
    assertEquals(250_000, s.batchNanos(1000));
  }

  @Test
  void aProcessWithoutSimulatedAccelerators_refusesTheModel() {
    Path v = SimulatedModels.write(dir.resolve("1"), 2, 10, 0, 8, 1);
    InferenceException e = assertThrows(InferenceException.class,
        () -> SavedModelLoader.load(v, 1, SessionSettings.callingThread()));
    assertTrue(e.getMessage().contains("runs no simulated accelerators"), e.getMessage());
  }

  @Test
  void aGpuModel_refusesToLoad_onANodeWithoutGpus_andLoadsWithOne() {
    Path v = SimulatedModels.write(dir.resolve("1"), 2, 10, 0, 8, 1);
    SessionSettings cpuNode = SessionSettings.callingThread().withSimulator(new ManualClock().simulator());
    InferenceException e = assertThrows(InferenceException.class,
        () -> SavedModelLoader.load(v, 1, cpuNode.forDevice(Device.GPU)));
    assertEquals(ErrorCode.MODEL_LOAD_FAILED, e.code());
    assertTrue(e.getMessage().contains("device is gpu and this node has no GPU"), e.getMessage());
    try (LoadedModel m = SavedModelLoader.load(v, 1, cpuNode.withGpus(1).forDevice(Device.GPU))) {
      assertEquals(1, m.version());
    }
  }

  @Test
  void theScannerSeesASimulatedVersionFolder() {
    SimulatedModels.write(dir.resolve("3"), 2, 10, 0, 8, 1);
    assertTrue(SavedModelLoader.holdsModel(dir.resolve("3")));
  }
}
