package dev.shardserve.gateway.tfserving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.Tensor;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PredictRequestTest {
  static final JsonFactory JSON = JsonFactory.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

  static PredictRequest parse(String json) throws Exception {
    return PredictRequest.parse(JSON.createParser(json));
  }

  @Test
  void rowFormat_soleInput_stacksInstancesOnTheBatchDimension() throws Exception {
    PredictRequest r = parse("{\"instances\": [[1.5, 2], [3, 4]]}");
    assertTrue(r.rowFormat());
    Tensor t = r.inputs().get(PredictRequest.SOLE_INPUT);
    assertEquals(DType.FLOAT64, t.dtype());
    assertArrayEquals(new long[] {2, 2}, t.shape());
    assertArrayEquals(new double[] {1.5, 2, 3, 4}, t.doubles());
    assertEquals("serving_default", r.signatureName());
  }

  @Test
  void integersOnly_travelAsInt64() throws Exception {
    Tensor t = parse("{\"instances\": [1, 2, 3]}").inputs().get("");
    assertEquals(DType.INT64, t.dtype());
    assertArrayEquals(new long[] {1, 2, 3}, t.longs());
  }

  @Test
  void rowFormat_namedInputs_oneTensorPerName() throws Exception {
    PredictRequest r = parse("{\"signature_name\": \"s\", \"instances\": [{\"a\": [1, 2], \"b\": \"x\"},"
        + " {\"a\": [3, 4], \"b\": {\"b64\": \"eQ==\"}}]}");
    assertEquals("s", r.signatureName());
    assertArrayEquals(new long[] {2, 2}, r.inputs().get("a").shape());
    Tensor b = r.inputs().get("b");
    assertEquals(DType.STRING, b.dtype());
    assertArrayEquals(new long[] {2}, b.shape());
    assertEquals("y", new String(b.strings().get(1), StandardCharsets.UTF_8));
  }

  @Test
  void rowFormat_b64Instances_areOneStringInput() throws Exception {
    Tensor t = parse("{\"instances\": [{\"b64\": \"aGk=\"}, {\"b64\": \"eQ==\"}]}").inputs().get("");
    assertEquals(DType.STRING, t.dtype());
    assertEquals("hi", new String(t.strings().get(0), StandardCharsets.UTF_8));
  }

  @Test
  void columnar_namedAndSole() throws Exception {
    PredictRequest named = parse("{\"inputs\": {\"a\": [[1], [2]], \"b\": 5}}");
    assertFalse(named.rowFormat());
    assertArrayEquals(new long[] {2, 1}, named.inputs().get("a").shape());
    assertArrayEquals(new long[] {}, named.inputs().get("b").shape());
    assertArrayEquals(new long[] {3}, parse("{\"inputs\": [true, false, true]}").inputs().get("").shape());
    assertEquals(DType.BOOL, parse("{\"inputs\": [true]}").inputs().get("").dtype());
  }

  @Test
  void nonFiniteTokens_areAccepted() throws Exception {
    double[] d = parse("{\"instances\": [NaN, Infinity, -Infinity]}").inputs().get("").doubles();
    assertTrue(Double.isNaN(d[0]) && d[1] == Double.POSITIVE_INFINITY && d[2] == Double.NEGATIVE_INFINITY);
  }

  @Test
  void badRequests_nameTheProblem() {
    assertMessage("{\"instances\": [[1, 2], [3]]}", "ragged");
    assertMessage("{\"instances\": [1, [2]]}", "ragged");
    assertMessage("{\"instances\": [1, \"a\"]}", "mixes number and string");
    assertMessage("{\"instances\": []}", "empty");
    assertMessage("{\"instances\": 5}", "must be a list");
    assertMessage("{\"instances\": [{\"a\": 1}, {\"b\": 1}]}", "'b'");
    assertMessage("{\"instances\": [{\"a\": 1}, 2]}", "not an object");
    assertMessage("{\"instances\": [{\"b64\": \"%%%\"}]}", "invalid base64");
    assertMessage("{\"instances\": [1], \"inputs\": [1]}", "Not both");
    assertMessage("{\"signature_name\": 5, \"instances\": [1]}", "'signature_name' key must be a string value.");
    assertMessage("{\"other\": 1}", "Missing 'instances' or 'inputs' key");
    assertMessage("[1]", "Is not object");
    assertMessage("{\"instances\": [99999999999999999999]}", "out of range");
    assertMessage("{\"instances\": [[[[[[[[[1]]]]]]]]]}", "nested too deeply");
  }

  private static void assertMessage(String json, String fragment) {
    BadRequest e = assertThrows(BadRequest.class, () -> parse(json), json);
    assertTrue(e.getMessage().contains(fragment), "'" + e.getMessage() + "' should contain '" + fragment + "'");
  }
}
