package dev.shardserve.gateway.warmup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The warm-up's requests, built from a model's v2 metadata. */
class RequestPathWarmupBodiesTest {
  static String text(RequestPathWarmup.Body b) {
    return new String(b.json(), StandardCharsets.UTF_8);
  }

  @Test
  void metadataInputs_becomeOneRowInV1ColumnarAndV2() throws Exception {
    List<RequestPathWarmup.Input> in = RequestPathWarmup.inputs(("{\"name\":\"m\",\"versions\":[\"1\"],\"platform\":"
        + "\"tensorflow_savedmodel\",\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[-1,2,-1]},"
        + "{\"name\":\"s\",\"datatype\":\"BYTES\",\"shape\":[-1]}],\"outputs\":[{\"name\":\"y\",\"datatype\":"
        + "\"FP32\",\"shape\":[-1]}]}").getBytes(StandardCharsets.UTF_8));
    assertEquals(List.of(new RequestPathWarmup.Input("x", "FP32", List.of(-1L, 2L, -1L)),
        new RequestPathWarmup.Input("s", "BYTES", List.of(-1L))), in);
    List<RequestPathWarmup.Body> b = RequestPathWarmup.bodies("m", in, new Random(1));
    assertEquals("/v1/models/m:predict", b.get(0).path());
    assertTrue(text(b.get(0)).matches("\\{\"inputs\":\\{\"x\":\\[\\[\\[[0-9.]+\\],\\[[0-9.]+\\]\\]\\],\"s\":\\[\"\"\\]\\}\\}"),
        text(b.get(0)));
    assertEquals("/v2/models/m/infer", b.get(1).path());
    assertTrue(text(b.get(1)).matches("\\{\"inputs\":\\[\\{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":\\[1,2,1\\],"
        + "\"data\":\\[[0-9.]+,[0-9.]+\\]\\},\\{\"name\":\"s\",\"datatype\":\"BYTES\",\"shape\":\\[1\\],\"data\":"
        + "\\[\"\"\\]\\}\\]\\}"), text(b.get(1)));
  }

  @Test
  void tooLargeOrUnknownInputs_leaveTheModelOut() {
    assertTrue(RequestPathWarmup.bodies("big", List.of(new RequestPathWarmup.Input("x", "FP32",
        List.of(-1L, 1000L, 1000L))), new Random(1)).isEmpty());
    assertTrue(RequestPathWarmup.bodies("odd", List.of(new RequestPathWarmup.Input("x", "COMPLEX64",
        List.of(-1L))), new Random(1)).isEmpty());
    assertTrue(RequestPathWarmup.bodies("none", List.of(), new Random(1)).isEmpty());
  }
}
