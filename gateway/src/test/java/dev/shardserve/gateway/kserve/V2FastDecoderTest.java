package dev.shardserve.gateway.kserve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.Tensor;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The fast path agrees with the full decoder on every request it decodes, and gives up on the rest. */
class V2FastDecoderTest {

  private static V2Request fast(String json) {
    byte[] b = json.getBytes(StandardCharsets.UTF_8);
    return V2FastDecoder.decode(b, 0, b.length);
  }

  private static V2Request full(String json) {
    byte[] b = json.getBytes(StandardCharsets.UTF_8);
    return V2RequestDecoder.decode(b, 0, b.length);
  }

  @Test
  void tritonClientRequest_decodedByTheFastPath() {
    String json = "{\"id\":\"1\",\"inputs\":[{\"name\":\"x\",\"shape\":[2,2],\"datatype\":\"FP32\",\"data\":"
        + "[[1.5,-2],[3e2,0.1]]},{\"name\":\"b\",\"shape\":[3],\"datatype\":\"INT64\",\"parameters\":"
        + "{\"binary_data_size\":24}}],\"outputs\":[{\"name\":\"y\",\"parameters\":{\"binary_data\":true}}],"
        + "\"parameters\":{\"binary_data_output\":false,\"timeout\":100,\"signature_name\":\"s\"}}";
    V2Request r = fast(json);
    assertNotNull(r);
    assertEquals(full(json), r);
    assertEquals(Tensor.ofFloats(new long[] {2, 2}, 1.5f, -2f, 300f, 0.1f), r.inputs().get(0).json());
    assertEquals(24, r.inputs().get(1).binaryDataSize());
    assertEquals(List.of(new V2RequestedOutput("y", true)), r.outputs());
    assertEquals(100L, r.parameters().get("timeout"));
  }

  @Test
  void unusualForms_giveUp_andTheFullDecoderReadsThem() {
    for (String json : List.of(
        "{\"inputs\":[{\"data\":[1],\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\"}]}", // data before shape
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[2],\"datatype\":\"BOOL\",\"data\":[true,false]}]}",
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[\"a\"]}]}",
        "{\"inputs\":[{\"name\":\"x\\u0041\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}",
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[NaN]}]}",
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT32\",\"data\":[2.0]}]}",
        "{\"parameters\":{\"f\":1.5},\"inputs\":[]}")) {
      assertNull(fast(json), json);
      assertNotNull(full(json), json);
    }
  }

  @Test
  void errors_giveUp_andTheFullDecoderNamesThem() {
    assertNull(fast("{\"inputs\":[{\"name\":\"x\",\"shape\":[2],\"datatype\":\"FP32\",\"data\":[1]}]}"));
    V2Exception e = assertThrows(V2Exception.class,
        () -> full("{\"inputs\":[{\"name\":\"x\",\"shape\":[2],\"datatype\":\"FP32\",\"data\":[1]}]}"));
    assertEquals("input 'x' has shape [2] (2 elements) but its data holds 1 elements", e.getMessage());
    assertNull(fast("{\"inputs\":[{\"name\":\"x\",\"shape\":[100000000],\"datatype\":\"FP32\",\"data\":[1]}]}"));
    assertNull(fast("{\"inputs\":[]"));
    assertNull(fast("{\"inputs\":[],\"inputs\":[]}"));
    assertThrows(V2Exception.class, () -> full("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\","
        + "\"data\":[1],\"parameters\":{\"binary_data_size\":4}}]}"));
  }

  /** Found by V2DecodersFuzzTest: the fast path took a name that is not UTF-8, which the full decoder refuses. */
  @Test
  void namesThatAreNotAscii_giveUp_soThatTheFullDecoderChecksTheirUtf8() {
    byte[] notUtf8 = "{\"parameters\":{\"\u00f3s\":1},\"inputs\":[]}".getBytes(StandardCharsets.ISO_8859_1);
    assertNull(V2FastDecoder.decode(notUtf8, 0, notUtf8.length));
    V2Exception e = assertThrows(V2Exception.class, () -> V2RequestDecoder.decode(notUtf8, 0, notUtf8.length));
    assertTrue(e.getMessage().startsWith("JSON parse error"), e.getMessage());
    String utf8 = "{\"id\":\"\u00e9t\u00e9\",\"inputs\":[{\"name\":\"\u20ac\",\"shape\":[1],\"datatype\":\"FP32\","
        + "\"data\":[1]}]}";
    assertNull(fast(utf8));
    assertEquals("\u00e9t\u00e9", full(utf8).id());
    assertEquals("\u20ac", full(utf8).inputs().get(0).name());
  }

  /**
   * The JSON part ends where the binary data begins: a number cut at that end gives up, whatever
   * the bytes after it (the scanner reads a number's digits up to the array's end, then checks).
   */
  @Test
  void aNumberCutAtTheEndOfTheJson_givesUp_evenWhenTheBinaryPartGoesOnWithDigits() {
    String json = "{\"inputs\":[{\"name\":\"x\",\"shape\":[2],\"datatype\":\"FP32\",\"data\":[1,2";
    for (String binary : List.of("]}]}", "5]}]}", ".5]}]}", "e1]}]}", "", "\u0000\u0001")) {
      byte[] b = (json + binary).getBytes(StandardCharsets.ISO_8859_1);
      assertNull(V2FastDecoder.decode(b, 0, json.length()), binary);
      assertThrows(V2Exception.class, () -> V2RequestDecoder.decode(b, 0, json.length()), binary);
    }
    byte[] whole = (json + "]}]}").getBytes(StandardCharsets.ISO_8859_1);
    assertEquals(Tensor.ofFloats(new long[] {2}, 1f, 2f), V2FastDecoder.decode(whole, 0, whole.length).inputs()
        .get(0).json());
  }

  /** A generated corpus of numeric requests: the fast path decodes each exactly as the full decoder. */
  @Test
  void generatedNumericRequests_fastEqualsFull() {
    Random random = new Random(13);
    DType[] types = {DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64};
    for (int k = 0; k < 500; k++) {
      DType t = types[random.nextInt(types.length)];
      int rows = 1 + random.nextInt(3);
      int cols = 1 + random.nextInt(5);
      StringBuilder data = new StringBuilder("[");
      boolean nested = random.nextBoolean();
      for (int r = 0; r < rows; r++) {
        data.append(r > 0 ? "," : "").append(nested ? "[" : "");
        for (int c = 0; c < cols; c++) {
          data.append(c > 0 ? "," : "").append(number(random, t));
        }
        data.append(nested ? "]" : "");
      }
      data.append(']');
      String json = "{\"inputs\": [ {\"name\": \"x\", \"shape\": [" + rows + ", " + cols + "], \"datatype\": \""
          + t.kserveName() + "\", \"data\": " + data + "} ]}";
      V2Request f = fast(json);
      assertNotNull(f, json);
      assertEquals(full(json), f, json);
    }
  }

  private static String number(Random random, DType t) {
    return switch (t) {
      case INT32 -> Integer.toString(random.nextInt());
      case INT64 -> Long.toString(random.nextLong() % 1_000_000_000_000_000L);
      default -> switch (random.nextInt(4)) {
        case 0 -> Float.toString(random.nextFloat() * 1000 - 500);
        case 1 -> Double.toString(random.nextGaussian() * 1e-5);
        case 2 -> String.format(Locale.ROOT, "%.4f", random.nextFloat());
        default -> Integer.toString(random.nextInt(1000) - 500);
      };
    };
  }
}
