package dev.shardserve.node.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shardserve.node.examples.HalfPlusTwoModel;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.Feature;
import dev.shardserve.protocol.ModelProtocol.ExampleMethod;
import dev.shardserve.protocol.Tensor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoadedModelTest {
  @TempDir static Path dir;
  static LoadedModel model;

  @BeforeAll
  static void load() {
    HalfPlusTwoModel.writeAnyShape(dir.resolve("half_plus_two/1"));
    model = LoadedModel.load(dir.resolve("half_plus_two/1"), 1, SessionSettings.callingThread());
  }

  @AfterAll
  static void close() {
    model.close();
  }

  @Test
  void predict_soleInput_computesHalfPlusTwo() {
    Map<String, Tensor> out = model.run("serving_default",
        Map.of(LoadedModel.SOLE_INPUT, Tensor.ofFloats(new long[] {3}, 1f, 2f, 5f)));
    assertArrayEquals(new float[] {2.5f, 3.0f, 4.5f}, out.get("y").floats());
    assertArrayEquals(new long[] {3}, out.get("y").shape());
  }

  @Test
  void predict_looseJsonNumbers_areCoercedToTheSignatureDtype() {
    Map<String, Tensor> out = model.run("serving_default", Map.of("x", Tensor.ofLongs(new long[] {2, 1}, 4, 6)));
    assertArrayEquals(new float[] {4f, 5f}, out.get("y").floats());
    out = model.run("serving_default", Map.of("x", Tensor.ofDoubles(new long[] {1}, 1.5)));
    assertArrayEquals(new float[] {2.75f}, out.get("y").floats());
  }

  @Test
  void signatures_areReadFromTheSignatureDefs() {
    assertEquals(List.of("classify_x_to_y", "regress_x_to_y", "serving_default"),
        model.signatures().keySet().stream().sorted().toList());
    assertEquals("tensorflow/serving/regress", model.signature("regress_x_to_y").methodName());
    assertEquals("DT_FLOAT", model.signature("serving_default").inputs().get("x").dtype());
    assertEquals("x:0", model.signature("serving_default").inputs().get("x").name());
  }

  @Test
  void unknownSignature_isSignatureNotFound() {
    InferenceException e = assertThrows(InferenceException.class,
        () -> model.run("nope", Map.of("x", Tensor.ofFloats(new long[] {1}, 1f))));
    assertEquals(ErrorCode.SIGNATURE_NOT_FOUND, e.code());
    assertTrue(e.getMessage().contains("nope"));
  }

  @Test
  void wrongInputName_isInvalidInputNamingIt() {
    InferenceException e = assertThrows(InferenceException.class,
        () -> model.run("serving_default", Map.of("z", Tensor.ofFloats(new long[] {1}, 1f))));
    assertEquals(ErrorCode.INVALID_INPUT, e.code());
    assertTrue(e.getMessage().contains("'z'") && e.getMessage().contains("[x]"), e.getMessage());
  }

  @Test
  void wrongDtype_isInvalidInputNamingBoth() {
    InferenceException e = assertThrows(InferenceException.class, () -> model.run("serving_default",
        Map.of("x", Tensor.ofStrings(new long[] {1}, List.of("a".getBytes(StandardCharsets.UTF_8))))));
    assertEquals(ErrorCode.INVALID_INPUT, e.code());
    assertTrue(e.getMessage().contains("DT_FLOAT") && e.getMessage().contains("DT_STRING"), e.getMessage());
  }

  @Test
  void regress_onExamples() {
    Map<String, Tensor> out = model.runExamples("regress_x_to_y", ExampleMethod.REGRESS,
        List.of(Map.of("x", new Feature.FloatList(new float[] {80f}))), Map.of());
    assertArrayEquals(new float[] {42f}, out.get("outputs").floats());
  }

  @Test
  void classify_onAPredictSignature_isRefusedAsTfServingDoes() {
    InferenceException e = assertThrows(InferenceException.class, () -> model.runExamples("serving_default",
        ExampleMethod.CLASSIFY, List.of(Map.of("x", new Feature.FloatList(new float[] {1f}))), Map.of()));
    assertTrue(e.getMessage().contains("Expected classification signature method_name"), e.getMessage());
  }

  @Test
  void missingFolder_failsToLoadWithTheReason() {
    InferenceException e = assertThrows(InferenceException.class,
        () -> LoadedModel.load(dir.resolve("absent/1"), 1, SessionSettings.callingThread()));
    assertEquals(ErrorCode.MODEL_LOAD_FAILED, e.code());
  }

  @Test
  void corruptSavedModel_failsToLoadWithTheReason() throws Exception {
    Path bad = dir.resolve("corrupt/1");
    Files.createDirectories(bad);
    Files.write(bad.resolve("saved_model.pb"), new byte[] {1, 2, 3, 4, 5});
    InferenceException e = assertThrows(InferenceException.class,
        () -> LoadedModel.load(bad, 1, SessionSettings.callingThread()));
    assertEquals(ErrorCode.MODEL_LOAD_FAILED, e.code());
  }
}
