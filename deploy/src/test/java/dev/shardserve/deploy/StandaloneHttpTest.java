package dev.shardserve.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shardserve.node.examples.HalfPlusTwoModel;
import dev.shardserve.node.testing.FixtureModels;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every TF Serving REST route and every error, against a real server on an ephemeral port. */
class StandaloneHttpTest {
  @TempDir static Path repo;
  static InProcessServer server;
  static final ObjectMapper JSON = new ObjectMapper();
  static final String HPT = "/v1/models/half_plus_two";

  @BeforeAll
  static void start() throws Exception {
    HalfPlusTwoModel.writeAnyShape(repo.resolve("half_plus_two/1"));
    FixtureModels.writeFixedShape(repo.resolve("fixed_shape/1"));
    FixtureModels.writeTwoInputs(repo.resolve("two_inputs/1"));
    FixtureModels.writeBytesEcho(repo.resolve("bytes_echo/1"));
    Files.createDirectories(repo.resolve("corrupt/1"));
    Files.write(repo.resolve("corrupt/1/saved_model.pb"), new byte[] {1, 2, 3});
    server = new InProcessServer(repo, Map.of("shardserve.gateway.max-request-bytes", "64 KiB"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static void assertError(HttpResponse<String> r, int status, String... fragments) throws Exception {
    assertEquals(status, r.statusCode(), r.body());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), r.headers().toString());
    String error = JSON.readTree(r.body()).get("error").asText();
    for (String f : fragments) {
      assertTrue(error.contains(f), "'" + error + "' should contain '" + f + "'");
    }
  }

  // ---- predict ----

  @Test
  void predict_rowFormat_answersAsTfServing() throws Exception {
    HttpResponse<String> r = server.post(HPT + ":predict", "{\"instances\": [1.0, 2.0, 5.0]}");
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("{\"predictions\":[2.5,3.0,4.5]}", r.body());
    assertEquals("1", r.headers().firstValue("X-Model-Version").orElse(""));
  }

  @Test
  void predict_columnarFormat_answersOutputs() throws Exception {
    HttpResponse<String> r = server.post(HPT + ":predict", "{\"inputs\": [[1.0], [2.0]]}");
    assertEquals("{\"outputs\":[[2.5],[3.0]]}", r.body());
  }

  @Test
  void predict_specificVersionPath() throws Exception {
    HttpResponse<String> r = server.post(HPT + "/versions/1:predict", "{\"instances\": [[1.0, 2.0], [3.0, 4.0]]}");
    assertEquals("{\"predictions\":[[2.5,3.0],[3.5,4.0]]}", r.body());
  }

  @Test
  void predict_namedInstances_severalOutputs_areObjectsPerInstance() throws Exception {
    HttpResponse<String> r = server.post("/v1/models/two_inputs:predict",
        "{\"instances\": [{\"a\": 1, \"b\": 2}, {\"a\": 3, \"b\": 4}]}");
    assertEquals("{\"predictions\":[{\"product\":2.0,\"sum\":3.0},{\"product\":12.0,\"sum\":7.0}]}", r.body());
  }

  @Test
  void predict_columnarNamedInputs_severalOutputs_areAnObject() throws Exception {
    HttpResponse<String> r = server.post("/v1/models/two_inputs:predict",
        "{\"signature_name\": \"serving_default\", \"inputs\": {\"a\": [1, 2], \"b\": [3, 4]}}");
    assertEquals("{\"outputs\":{\"product\":[3.0,8.0],\"sum\":[4.0,6.0]}}", r.body());
  }

  @Test
  void predict_b64Strings_roundTripAsB64ForBytesOutputs() throws Exception {
    String b64 = Base64.getEncoder().encodeToString(new byte[] {0, (byte) 0xff, 65});
    HttpResponse<String> r = server.post("/v1/models/bytes_echo:predict",
        "{\"instances\": [{\"b64\": \"" + b64 + "\"}, \"hi\"]}");
    assertEquals(200, r.statusCode(), r.body());
    JsonNode p = JSON.readTree(r.body()).get("predictions");
    assertEquals(b64, p.get(0).get("b64").asText());
    assertEquals(Base64.getEncoder().encodeToString("hi".getBytes()), p.get(1).get("b64").asText());
  }

  // ---- classify / regress ----

  @Test
  void regress_onExamples() throws Exception {
    HttpResponse<String> r = server.post(HPT + ":regress",
        "{\"signature_name\": \"regress_x_to_y\", \"examples\": [{\"x\": 80.0}, {\"x\": 2.0}]}");
    assertEquals("{\"results\":[42.0,3.0]}", r.body());
  }

  @Test
  void classify_onExamples_withContext() throws Exception {
    HttpResponse<String> r = server.post(HPT + ":classify",
        "{\"signature_name\": \"classify_x_to_y\", \"context\": {\"unused\": 1}, \"examples\": [{\"x\": 20.0}]}");
    assertEquals("{\"results\":[[[\"\",12.0]]]}", r.body());
  }

  @Test
  void classify_withAPredictSignature_is400() throws Exception {
    assertError(server.post(HPT + ":classify", "{\"examples\": [{\"x\": 20.0}]}"), 400,
        "Expected classification signature method_name to be tensorflow/serving/classify");
  }

  // ---- status / metadata ----

  @Test
  void status_listsTheServingVersion() throws Exception {
    server.post(HPT + ":predict", "{\"instances\": [1]}");
    HttpResponse<String> r = server.get(HPT);
    assertEquals("{\"model_version_status\":[{\"version\":\"1\",\"state\":\"AVAILABLE\","
        + "\"status\":{\"error_code\":\"OK\",\"error_message\":\"\"}}]}", r.body());
    assertEquals(200, server.get(HPT + "/versions/1").statusCode());
    assertError(server.get(HPT + "/versions/5"), 404, "Could not find version 5");
  }

  @Test
  void status_ofACorruptModel_showsItsLoadError() throws Exception {
    assertError(server.post("/v1/models/corrupt:predict", "{\"instances\": [1]}"), 503, "failed to load");
    JsonNode s = JSON.readTree(server.get("/v1/models/corrupt").body()).get("model_version_status").get(0);
    assertEquals("END", s.get("state").asText());
    assertEquals("UNKNOWN", s.get("status").get("error_code").asText());
    assertTrue(s.get("status").get("error_message").asText().contains("corrupt"));
  }

  @Test
  void metadata_hasSignatureDefsInTfServingShape() throws Exception {
    HttpResponse<String> r = server.get(HPT + "/metadata");
    assertEquals(200, r.statusCode(), r.body());
    JsonNode m = JSON.readTree(r.body());
    assertEquals("half_plus_two", m.get("model_spec").get("name").asText());
    assertEquals("1", m.get("model_spec").get("version").asText());
    JsonNode sig = m.get("metadata").get("signature_def").get("signature_def").get("regress_x_to_y");
    assertEquals("tensorflow/serving/regress", sig.get("method_name").asText());
    JsonNode input = sig.get("inputs").get("inputs");
    assertEquals("DT_STRING", input.get("dtype").asText());
    assertEquals("-1", input.get("tensor_shape").get("dim").get(0).get("size").asText());
  }

  // ---- bad input: a clear 4xx, never a 500 ----

  @Test
  void malformedJson_is400() throws Exception {
    assertError(server.post(HPT + ":predict", "{\"instances\": [1.0,"), 400, "JSON Parse error");
  }

  @Test
  void emptyBody_is400() throws Exception {
    assertError(server.post(HPT + ":predict", ""), 400, "The document is empty");
  }

  @Test
  void unknownModel_is404() throws Exception {
    assertError(server.post("/v1/models/nope:predict", "{\"instances\": [1]}"), 404,
        "Servable not found for request: Latest(nope)");
    assertError(server.get("/v1/models/nope"), 404, "nope");
  }

  @Test
  void unknownVersion_is404() throws Exception {
    assertError(server.post(HPT + "/versions/42:predict", "{\"instances\": [1]}"), 404,
        "Specific(half_plus_two, 42)");
  }

  @Test
  void unknownLabel_is400() throws Exception {
    assertError(server.post(HPT + "/labels/canary:predict", "{\"instances\": [1]}"), 400,
        "Unrecognized servable version label: canary");
  }

  @Test
  void unknownSignature_is400() throws Exception {
    assertError(server.post(HPT + ":predict", "{\"signature_name\": \"nope\", \"instances\": [1]}"), 400,
        "nope");
  }

  @Test
  void wrongDtype_is400NamingInputAndTypes() throws Exception {
    assertError(server.post(HPT + ":predict", "{\"instances\": [\"text\"]}"), 400, "'x'", "DT_FLOAT", "DT_STRING");
  }

  @Test
  void wrongShape_is400NamingInputExpectedAndGivenShape() throws Exception {
    assertError(server.post("/v1/models/fixed_shape:predict", "{\"instances\": [[1, 2]]}"), 400,
        "'x'", "[-1, 3]", "[1, 2]");
  }

  @Test
  void emptyInstances_is400() throws Exception {
    assertError(server.post(HPT + ":predict", "{\"instances\": []}"), 400, "empty");
  }

  @Test
  void raggedInstances_is400() throws Exception {
    assertError(server.post(HPT + ":predict", "{\"instances\": [[1, 2], [3]]}"), 400, "ragged");
  }

  @Test
  void missingInput_is400NamingIt() throws Exception {
    assertError(server.post("/v1/models/two_inputs:predict", "{\"instances\": [{\"a\": 1}]}"), 400,
        "missing input 'b'");
  }

  @Test
  void bothFormats_is400() throws Exception {
    assertError(server.post(HPT + ":predict", "{\"instances\": [1], \"inputs\": [1]}"), 400, "Not both");
  }

  @Test
  void bodyOverTheLimit_is413() throws Exception {
    String big = "{\"instances\": [" + "1.0,".repeat(20_000) + "1.0]}";
    assertError(server.post(HPT + ":predict", big), 413, "exceeds the limit of 65536 bytes");
  }

  @Test
  void wrongMethod_is400MalformedAsTfServing() throws Exception {
    assertError(server.get(HPT + ":predict"), 400, "Malformed request: GET /v1/models/half_plus_two:predict");
    assertError(server.post(HPT + "/metadata", "{}"), 400, "Malformed request: POST");
    assertError(server.send(HttpRequest.newBuilder(server.uri(HPT)).DELETE()), 400, "Malformed request: DELETE");
  }

  @Test
  void unknownVerbOrPath_is400Or404() throws Exception {
    assertError(server.post(HPT + ":explain", "{}"), 400, "Malformed request");
    assertError(server.get("/v1/models/half_plus_two/versions/1/labels/x"), 400, "Malformed request");
    assertError(server.get("/nothing"), 404, "Not found");
  }

  @Test
  void badVersionOrModelName_is400() throws Exception {
    assertError(server.get(HPT + "/versions/abc"), 400, "Failed to convert version");
    assertError(server.post("/v1/models/a%23b:predict", "{\"instances\": [1]}"), 400, "invalid model name 'a%23b'");
  }

  @Test
  void badTimeoutHeader_is400() throws Exception {
    assertError(server.send(HttpRequest.newBuilder(server.uri(HPT + ":predict"))
        .header("X-Request-Timeout-Ms", "-5").POST(HttpRequest.BodyPublishers.ofString("{\"instances\": [1]}"))),
        400, "X-Request-Timeout-Ms", "'-5'");
  }

  @Test
  void integerInputWithAFraction_forAFloatModel_isFine_butNonNumbersAreNot() throws Exception {
    assertEquals("{\"predictions\":[2.75]}", server.post(HPT + ":predict", "{\"instances\": [1.5]}").body());
    assertError(server.post(HPT + ":predict", "{\"instances\": [true]}"), 400, "DT_FLOAT", "DT_BOOL");
    assertError(server.post(HPT + ":predict", "{\"instances\": [null]}"), 400, "unsupported JSON value");
  }

  @Test
  void afterBadInput_theServerStillServes() throws Exception {
    server.post(HPT + ":predict", "{\"instances\": [{\"b64\": \"!!!\"}]}");
    server.post(HPT + ":predict", "[[[[");
    assertEquals("{\"predictions\":[2.5]}", server.post(HPT + ":predict", "{\"instances\": [1.0]}").body());
  }
}
