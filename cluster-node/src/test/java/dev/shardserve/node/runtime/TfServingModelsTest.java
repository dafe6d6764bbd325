package dev.shardserve.node.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shardserve.node.testing.TfServingTestData;
import dev.shardserve.protocol.Feature;
import dev.shardserve.protocol.ModelProtocol.ExampleMethod;
import dev.shardserve.protocol.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Compatibility: the SavedModels TF Serving tests with, written by TensorFlow Python. */
class TfServingModelsTest {

  private static LoadedModel load(String model, String version) {
    Path dir = TfServingTestData.require(model).resolve(version);
    return LoadedModel.load(dir, Long.parseLong(version), SessionSettings.callingThread());
  }

  @Test
  void halfPlusTwoCpu_predictsAsTfServing() {
    try (LoadedModel m = load("saved_model_half_plus_two_cpu", "00000123")) {
      Map<String, Tensor> out = m.run("serving_default",
          Map.of(LoadedModel.SOLE_INPUT, Tensor.ofFloats(new long[] {3}, 1f, 2f, 5f)));
      assertArrayEquals(new float[] {2.5f, 3.0f, 4.5f}, out.get("y").floats());
    }
  }

  @Test
  void halfPlusTwoCpu_regressesAndClassifiesExamples() {
    try (LoadedModel m = load("saved_model_half_plus_two_cpu", "00000123")) {
      Map<String, Tensor> regress = m.runExamples("regress_x_to_y", ExampleMethod.REGRESS,
          List.of(Map.of("x", new Feature.FloatList(new float[] {80f}))), Map.of());
      assertArrayEquals(new float[] {42f}, regress.get("outputs").floats());
      Map<String, Tensor> classify = m.runExamples("classify_x_to_y", ExampleMethod.CLASSIFY,
          List.of(Map.of("x", new Feature.FloatList(new float[] {20f}))), Map.of());
      assertArrayEquals(new float[] {12f}, classify.get("scores").floats());
    }
  }

  @Test
  void halfPlusTwoTf2Cpu_loadsAndPredicts() {
    try (LoadedModel m = load("saved_model_half_plus_two_tf2_cpu", "00000123")) {
      Map<String, Tensor> out = m.run("serving_default", Map.of("x", Tensor.ofFloats(new long[] {1}, 4f)));
      assertArrayEquals(new float[] {4f}, out.get("y").floats());
    }
  }

  @Test
  void halfPlusThree_withASignatureTensorFlowJavaRejects_stillLoadsAndPredicts() {
    try (LoadedModel m = load("saved_model_half_plus_three", "00000123")) {
      assertTrue(m.signatures().containsKey("serving_default"), m.signatures().keySet().toString());
      Map<String, Tensor> out = m.run("serving_default",
          Map.of(LoadedModel.SOLE_INPUT, Tensor.ofFloats(new long[] {3}, 1f, 2f, 5f)));
      assertArrayEquals(new float[] {3.5f, 4.0f, 5.5f}, out.get("y").floats());
    }
  }

  @Test
  void halfPlusTwoGpu_loadsOnCpuWithSoftPlacement() {
    try (LoadedModel m = load("saved_model_half_plus_two_gpu", "00000123")) {
      Map<String, Tensor> out = m.run("serving_default",
          Map.of(LoadedModel.SOLE_INPUT, Tensor.ofFloats(new long[] {2}, 1f, 2f)));
      assertArrayEquals(new float[] {2.5f, 3.0f}, out.get("y").floats());
    }
  }

  @Test
  void matrixHalfPlusTwo_predictsOnAMatrix() {
    try (LoadedModel m = load("matrix_half_plus_two", "1")) {
      String key = m.signatures().keySet().iterator().next();
      Map<String, Tensor> out = m.run(key,
          Map.of(LoadedModel.SOLE_INPUT, Tensor.ofFloats(new long[] {1, 3, 3}, 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f)));
      Tensor y = out.values().iterator().next();
      assertArrayEquals(new float[] {2.5f, 3f, 3.5f, 4f, 4.5f, 5f, 5.5f, 6f, 6.5f}, y.floats());
    }
  }

  @Test
  void counter_loads() {
    try (LoadedModel m = load("saved_model_counter", "00000123")) {
      assertEquals(4, m.signatures().size(), m.signatures().keySet().toString());
    }
  }
}
