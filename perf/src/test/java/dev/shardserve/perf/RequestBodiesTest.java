package dev.shardserve.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class RequestBodiesTest {
  static final ObjectMapper JSON = new ObjectMapper();

  /** TF Serving's GetModelMetadata answer for a signature with these inputs. */
  static JsonNode metadata(String inputs) throws IOException {
    return JSON.readTree("{\"model_spec\":{\"name\":\"m\",\"version\":\"1\"},\"metadata\":{\"signature_def\":"
        + "{\"signature_def\":{\"serving_default\":{\"inputs\":" + inputs + ",\"outputs\":{},\"method_name\":"
        + "\"tensorflow/serving/predict\"}}}}}");
  }

  @Test
  void oneInput_givesRowsOfItsShape() throws IOException {
    JsonNode meta = metadata("{\"x\":{\"dtype\":\"DT_FLOAT\",\"tensor_shape\":{\"dim\":[{\"size\":\"-1\"},"
        + "{\"size\":\"784\"}],\"unknown_rank\":false},\"name\":\"x:0\"}}");
    JsonNode body = JSON.readTree(RequestBodies.fromMetadata(meta, "serving_default", 3));
    assertEquals(3, body.get("instances").size());
    assertEquals(784, body.get("instances").get(2).size());
    assertTrue(body.get("instances").get(0).get(0).isNumber());
  }

  @Test
  void aVectorInput_givesScalars_andSeveralInputsGiveObjects() throws IOException {
    JsonNode vector = JSON.readTree(RequestBodies.fromMetadata(metadata("{\"x\":{\"dtype\":\"DT_FLOAT\","
        + "\"tensor_shape\":{\"dim\":[{\"size\":\"-1\"}]}}}"), "serving_default", 2));
    assertTrue(vector.get("instances").get(1).isNumber());
    JsonNode two = JSON.readTree(RequestBodies.fromMetadata(metadata("{\"a\":{\"dtype\":\"DT_INT64\","
        + "\"tensor_shape\":{\"dim\":[{\"size\":\"-1\"},{\"size\":\"-1\"}]}},\"b\":{\"dtype\":\"DT_DOUBLE\","
        + "\"tensor_shape\":{\"dim\":[{\"size\":\"-1\"},{\"size\":\"2\"},{\"size\":\"3\"}]}}}"), "serving_default", 1));
    JsonNode row = two.get("instances").get(0);
    assertTrue(row.get("a").get(0).isInt(), row.toString());
    assertEquals(2, row.get("b").size());
    assertEquals(3, row.get("b").get(1).size());
  }

  @Test
  void whatCannotBeGenerated_isNamed() throws IOException {
    IOException e = assertThrows(IOException.class, () -> RequestBodies.fromMetadata(metadata(
        "{\"text\":{\"dtype\":\"DT_STRING\",\"tensor_shape\":{\"dim\":[{\"size\":\"-1\"}]}}}"), "serving_default", 1));
    assertTrue(e.getMessage().contains("'text' is DT_STRING"), e.getMessage());
    IOException missing = assertThrows(IOException.class, () -> RequestBodies.fromMetadata(metadata("{}"), "other",
        1));
    assertTrue(missing.getMessage().contains("'other'"), missing.getMessage());
  }
}
