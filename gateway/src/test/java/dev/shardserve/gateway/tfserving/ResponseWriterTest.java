package dev.shardserve.gateway.tfserving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol.ModelStatus;
import dev.shardserve.protocol.ModelProtocol.VersionState;
import dev.shardserve.protocol.ModelProtocol.VersionStatus;
import dev.shardserve.protocol.Outputs;
import dev.shardserve.protocol.Tensor;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ResponseWriterTest {
  private static String s(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  @Test
  void predictions_oneOutput_splitsTheBatchDimension() {
    Tensor y = Tensor.ofFloats(new long[] {2, 2}, 1f, 2f, 3f, Float.NaN);
    assertEquals("{\"predictions\":[[1.0,2.0],[3.0,NaN]]}", s(ResponseWriter.predictions(Outputs.of(Map.of("y", y)))));
  }

  @Test
  void predictions_ofARowView_writeOnlyThoseRows_fromTheBatchBuffer() {
    Tensor batch = Tensor.ofFloats(new long[] {4, 2}, 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f);
    Outputs mine = Outputs.of(Map.of("y", batch)).rows(1, 3);
    assertEquals("{\"predictions\":[[3.0,4.0],[5.0,6.0]]}", s(ResponseWriter.predictions(mine)));
    assertEquals("{\"outputs\":[[3.0,4.0],[5.0,6.0]]}", s(ResponseWriter.outputs(mine)));
    assertSame(batch, mine.backing(0), "a view, not a copy");
  }

  @Test
  void predictions_severalOutputs_areObjects() {
    Map<String, Tensor> out = Map.of("a", Tensor.ofInts(new long[] {2}, 1, 2),
        "b", Tensor.ofBools(new long[] {2, 1}, true, false));
    assertEquals("{\"predictions\":[{\"a\":1,\"b\":[true]},{\"a\":2,\"b\":[false]}]}",
        s(ResponseWriter.predictions(Outputs.of(out))));
  }

  @Test
  void predictions_differentBatchSizes_orScalars_cannotBeRows() {
    assertThrows(IllegalStateException.class, () -> ResponseWriter.predictions(Outputs.of(Map.of(
        "a", Tensor.ofInts(new long[] {2}, 1, 2), "b", Tensor.ofInts(new long[] {1}, 1)))));
    assertThrows(IllegalStateException.class,
        () -> ResponseWriter.predictions(Outputs.of(Map.of("a", Tensor.ofInts(new long[] {}, 1)))));
  }

  @Test
  void outputs_columnar_andBytesOutputsAsB64() {
    assertEquals("{\"outputs\":5}", s(ResponseWriter.outputs(Outputs.of(Map.of("y", Tensor.ofLongs(new long[] {}, 5))))));
    Tensor bytes = Tensor.ofStrings(new long[] {1}, List.of(new byte[] {(byte) 0xff}));
    assertEquals("{\"outputs\":[{\"b64\":\"/w==\"}]}", s(ResponseWriter.outputs(Outputs.of(Map.of("out_bytes", bytes)))));
    assertEquals("{\"outputs\":[\"\u00e9\"]}", s(ResponseWriter.outputs(Outputs.of(Map.of("out",
        Tensor.ofStrings(new long[] {1}, List.of("\u00e9".getBytes(StandardCharsets.UTF_8))))))));
  }

  @Test
  void classifyAndRegressResults() {
    Tensor scores = Tensor.ofFloats(new long[] {2, 2}, 0.1f, 0.9f, 0.7f, 0.3f);
    Tensor classes = Tensor.ofStrings(new long[] {2, 2}, List.of("a".getBytes(), "b".getBytes(), "a".getBytes(),
        "b".getBytes()));
    assertEquals("{\"results\":[[[\"a\",0.10000000149011612],[\"b\",0.8999999761581421]],"
        + "[[\"a\",0.699999988079071],[\"b\",0.30000001192092896]]]}",
        s(ResponseWriter.classifyResults(Outputs.of(Map.of("scores", scores, "classes", classes)), 2)));
    assertEquals("{\"results\":[42.0]}",
        s(ResponseWriter.regressResults(Outputs.of(Map.of("outputs", Tensor.ofFloats(new long[] {1, 1}, 42f))), 1)));
    assertThrows(IllegalStateException.class,
        () -> ResponseWriter.regressResults(Outputs.of(Map.of("y", Tensor.ofFloats(new long[] {1}, 1f))), 1));
  }

  @Test
  void status_inTfServingShape() {
    ModelStatus st = new ModelStatus(List.of(new VersionStatus(3, VersionState.END, ErrorCode.MODEL_LOAD_FAILED,
        "bad")));
    assertEquals("{\"model_version_status\":[{\"version\":\"3\",\"state\":\"END\","
        + "\"status\":{\"error_code\":\"UNKNOWN\",\"error_message\":\"bad\"}}]}", s(ResponseWriter.status(st)));
  }

  @Test
  void halfPrecision_decodes() {
    assertEquals(1.0f, ResponseWriter.halfToFloat((short) 0x3c00));
    assertEquals(-2.0f, ResponseWriter.halfToFloat((short) 0xc000));
    assertEquals(Float.POSITIVE_INFINITY, ResponseWriter.halfToFloat((short) 0x7c00));
  }
}
