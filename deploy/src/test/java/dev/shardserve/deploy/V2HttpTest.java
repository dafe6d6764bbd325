package dev.shardserve.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shardserve.node.examples.HalfPlusTwoModel;
import dev.shardserve.node.testing.FixtureModels;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Open Inference Protocol v2 REST routes against a real standalone server on an ephemeral
 * port: every endpoint, JSON and binary tensor data for every datatype TensorFlow Java serves,
 * requests built byte for byte as Triton's HTTP client and the protocol documents show them, and
 * every bad input a 4xx naming the problem.
 */
class V2HttpTest {
  @TempDir static Path repo;
  static InProcessServer server;
  static final String DT = "/v2/models/dtypes";

  /** Per datatype: four elements as JSON data, and the same as little-endian bytes. */
  record Sample(String json, byte[] bytes) {}

  static final Map<String, Sample> SAMPLES = samples();

  @BeforeAll
  static void start() throws Exception {
    FixtureModels.writeDtypes(repo.resolve("dtypes/1"));
    FixtureModels.writeBatchProbe(repo.resolve("batch_probe/1"));
    HalfPlusTwoModel.write(repo.resolve("half_plus_two/1"));
    server = new InProcessServer(repo, Map.of("shardserve.gateway.max-request-bytes", "64 KiB",
        "shardserve.gateway.max-binary-bytes", "256 KiB"));
    await().atMost(Duration.ofSeconds(60)).until(() -> server.get("/v2/health/ready").statusCode() == 200);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static Map<String, Sample> samples() {
    Map<String, Sample> m = new LinkedHashMap<>();
    m.put("BOOL", new Sample("[true,false,true,true]", new byte[] {1, 0, 1, 1}));
    m.put("UINT8", new Sample("[0,1,200,255]", new byte[] {0, 1, (byte) 200, (byte) 255}));
    m.put("UINT16", new Sample("[0,1,40000,65535]", shorts(0, 1, 40000, 65535)));
    m.put("INT32", new Sample("[-2147483648,-1,0,2147483647]", le(16).putInt(Integer.MIN_VALUE).putInt(-1).putInt(0)
        .putInt(Integer.MAX_VALUE).array()));
    m.put("INT64", new Sample("[-9223372036854775808,-1,0,9223372036854775807]", le(32).putLong(Long.MIN_VALUE)
        .putLong(-1).putLong(0).putLong(Long.MAX_VALUE).array()));
    m.put("FP16", new Sample("[0.5,-2.0,65504.0,6.1035156E-5]", shorts(0x3800, 0xc000, 0x7bff, 0x0400)));
    m.put("BF16", new Sample("[1.0,-2.5,3.140625,0.0]", shorts(0x3f80, 0xc020, 0x4049, 0)));
    m.put("FP32", new Sample("[1.5,-0.25,100.125,0.1]", V2Wire.floats(1.5f, -0.25f, 100.125f, 0.1f)));
    m.put("FP64", new Sample("[0.1,-1.0E300,2.5,0.0]", le(32).putDouble(0.1).putDouble(-1e300).putDouble(2.5)
        .putDouble(0).array()));
    m.put("BYTES", new Sample("[\"a\",\"\",\"h\u00e9llo\",\"x\\u0000y\"]", V2Wire.strings("a".getBytes(), new byte[0],
        "h\u00e9llo".getBytes(StandardCharsets.UTF_8), new byte[] {'x', 0, 'y'})));
    return m;
  }

  private static ByteBuffer le(int size) {
    return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static byte[] shorts(int... v) {
    ByteBuffer b = le(v.length * 2);
    for (int s : v) {
      b.putShort((short) s);
    }
    return b.array();
  }

  private static V2Wire.Answer send(String path, V2Wire.Body body) throws Exception {
    HttpResponse<byte[]> r = server.client.send(body.post(server.uri(path)).timeout(Duration.ofSeconds(60)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    return V2Wire.read(r);
  }

  private static V2Wire.Answer infer(String json) throws Exception {
    return send(DT + "/infer", new V2Wire.Body(json, List.of()));
  }

  private static void assertError(V2Wire.Answer a, int status, String... fragments) {
    assertEquals(status, a.status(), a.json().toString());
    assertTrue(a.raw().headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
    for (String f : fragments) {
      assertTrue(a.error().contains(f), "'" + a.error() + "' should contain '" + f + "'");
    }
  }

  private static String input(String name, String shape, String datatype, String rest) {
    return "{\"name\":\"" + name + "\",\"shape\":" + shape + ",\"datatype\":\"" + datatype + "\"," + rest + "}";
  }

  // ---- health and metadata ----

  @Test
  void serverMetadata_namesTheBinaryExtension() throws Exception {
    JsonNode m = V2Wire.JSON.readTree(server.get("/v2").body());
    assertEquals("shardserve", m.get("name").asText());
    assertFalse(m.get("version").asText().isEmpty());
    assertTrue(m.get("extensions").toString().contains("\"binary_tensor_data\""), m.toString());
    assertTrue(m.get("extensions").toString().contains("\"schedule_policy\""), m.toString());
  }

  @Test
  void health_liveAndReady() throws Exception {
    HttpResponse<String> live = server.get("/v2/health/live");
    assertEquals(200, live.statusCode());
    assertEquals("{\"live\":true}", live.body());
    HttpResponse<String> ready = server.get("/v2/health/ready");
    assertEquals(200, ready.statusCode());
    assertEquals("{\"ready\":true}", ready.body());
  }

  @Test
  void modelMetadata_servingDefault_inV2Datatypes() throws Exception {
    HttpResponse<String> r = server.get(DT);
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("{\"name\":\"dtypes\",\"versions\":[\"1\"],\"platform\":\"tensorflow_savedmodel\","
        + "\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[-1,-1]}],"
        + "\"outputs\":[{\"name\":\"double\",\"datatype\":\"FP32\",\"shape\":[-1,-1]},"
        + "{\"name\":\"plus_one\",\"datatype\":\"FP32\",\"shape\":[-1,-1]}]}", r.body());
  }

  @Test
  void modelMetadata_ofANamedSignature_andAVersion() throws Exception {
    JsonNode m = V2Wire.JSON.readTree(server.get(DT + "/versions/1?signature_name=bytes").body());
    assertEquals("BYTES", m.get("inputs").get(0).get("datatype").asText());
    assertEquals("[\"1\"]", m.get("versions").toString());
    HttpResponse<String> missing = server.get(DT + "?signature_name=nope");
    assertEquals(400, missing.statusCode());
    assertTrue(missing.body().contains("signature 'nope' not found"), missing.body());
  }

  @Test
  void modelReady_andItsErrors() throws Exception {
    HttpResponse<String> r = server.get(DT + "/ready");
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("{\"name\":\"dtypes\",\"ready\":true}", r.body());
    assertEquals(200, server.get(DT + "/versions/1/ready").statusCode());
    HttpResponse<String> version = server.get(DT + "/versions/7/ready");
    assertEquals(404, version.statusCode(), version.body());
    HttpResponse<String> unknown = server.get("/v2/models/nope/ready");
    assertEquals(404, unknown.statusCode(), unknown.body());
    assertTrue(unknown.body().contains("nope"));
  }

  @Test
  void metadata_unknownModelOrVersion_is404() throws Exception {
    assertEquals(404, server.get("/v2/models/nope").statusCode());
    HttpResponse<String> v = server.get(DT + "/versions/9");
    assertEquals(404, v.statusCode(), v.body());
    assertTrue(v.body().contains("Specific(dtypes, 9)"), v.body());
  }

  // ---- inference in JSON ----

  @Test
  void infer_json_echoesId_andAnswersEveryOutput() throws Exception {
    V2Wire.Answer a = infer("{\"id\":\"42\",\"inputs\":[" + input("x", "[2,2]", "FP32",
        "\"data\":[[1.0,2.0],[3.0,4.5]]") + "]}");
    assertEquals(200, a.status(), a.json().toString());
    assertEquals("{\"model_name\":\"dtypes\",\"model_version\":\"1\",\"id\":\"42\",\"outputs\":["
        + "{\"name\":\"double\",\"datatype\":\"FP32\",\"shape\":[2,2],\"data\":[2.0,4.0,6.0,9.0]},"
        + "{\"name\":\"plus_one\",\"datatype\":\"FP32\",\"shape\":[2,2],\"data\":[2.0,3.0,4.0,5.5]}]}",
        a.json().toString());
    assertEquals("application/json", a.raw().headers().firstValue("Content-Type").orElse(""));
    assertTrue(a.raw().headers().firstValue(V2Wire.HEADER_LENGTH).isEmpty());
  }

  @Test
  void infer_outputsSelection_answersOnlyThoseInTheirOrder() throws Exception {
    V2Wire.Answer a = infer("{\"inputs\":[" + input("x", "[1,2]", "FP32", "\"data\":[1,2]")
        + "],\"outputs\":[{\"name\":\"plus_one\"}]}");
    assertEquals(1, a.json().get("outputs").size());
    assertEquals("[2.0,3.0]", a.output("plus_one").get("data").toString());
    assertFalse(a.json().has("id"));
    assertError(infer("{\"inputs\":[" + input("x", "[1,2]", "FP32", "\"data\":[1,2]")
        + "],\"outputs\":[{\"name\":\"nope\"}]}"), 400, "output 'nope'", "[double, plus_one]");
  }

  @Test
  void infer_binaryDataOutput_allBinary_unlessAnOutputSaysOtherwise() throws Exception {
    V2Wire.Answer a = infer("{\"parameters\":{\"binary_data_output\":true},\"inputs\":[" + input("x", "[1,2]",
        "FP32", "\"data\":[1,2]") + "],\"outputs\":[{\"name\":\"double\"},{\"name\":\"plus_one\","
        + "\"parameters\":{\"binary_data\":false}}]}");
    assertEquals(200, a.status(), a.json().toString());
    assertEquals("application/octet-stream", a.raw().headers().firstValue("Content-Type").orElse(""));
    assertArrayEquals(V2Wire.floats(2, 4), a.binary().get("double"));
    assertEquals(8, a.output("double").get("parameters").get("binary_data_size").asInt());
    assertFalse(a.output("double").has("data"));
    assertEquals("[2.0,3.0]", a.output("plus_one").get("data").toString());
  }

  @Test
  void infer_signatureName_parameter() throws Exception {
    V2Wire.Answer a = infer("{\"parameters\":{\"signature_name\":\"int64\"},\"inputs\":[" + input("x", "[1,3]",
        "INT64", "\"data\":[1,-2,9007199254740993]") + "]}");
    assertEquals(200, a.status(), a.json().toString());
    assertEquals("[1,-2,9007199254740993]", a.output("y").get("data").toString());
  }

  // ---- every datatype: JSON and binary agree, binary round trips byte for byte ----

  @Test
  void everyDatatype_jsonInJsonOut_returnsTheData() throws Exception {
    for (Map.Entry<String, Sample> e : SAMPLES.entrySet()) {
      String dt = e.getKey();
      V2Wire.Answer a = infer("{\"parameters\":{\"signature_name\":\"" + dt.toLowerCase(Locale.ROOT)
          + "\"},\"inputs\":[" + input("x", "[2,2]", dt, "\"data\":" + e.getValue().json()) + "]}");
      assertEquals(200, a.status(), dt + ": " + a.json());
      assertEquals(dt, a.output("y").get("datatype").asText());
      assertEquals(V2Wire.JSON.readTree(e.getValue().json()), a.output("y").get("data"), dt);
    }
  }

  @Test
  void everyDatatype_binaryRoundTrip_isByteExact_andEqualsTheJsonDecoding() throws Exception {
    for (Map.Entry<String, Sample> e : SAMPLES.entrySet()) {
      String dt = e.getKey();
      String sig = "\"parameters\":{\"signature_name\":\"" + dt.toLowerCase(Locale.ROOT) + "\",\"binary_data_output\":true}";
      byte[] bytes = e.getValue().bytes();
      V2Wire.Answer binary = send(DT + "/infer", new V2Wire.Body("{" + sig + ",\"inputs\":[" + input("x", "[2,2]", dt,
          "\"parameters\":{\"binary_data_size\":" + bytes.length + "}") + "]}", V2Wire.parts(bytes)));
      assertEquals(200, binary.status(), dt + ": " + binary.json());
      assertArrayEquals(bytes, binary.binary().get("y"), dt);
      V2Wire.Answer fromJson = infer("{" + sig + ",\"inputs\":[" + input("x", "[2,2]", dt, "\"data\":"
          + e.getValue().json()) + "]}");
      assertArrayEquals(bytes, fromJson.binary().get("y"), dt + " from JSON");
      assertEquals("[2,2]", binary.output("y").get("shape").toString());
    }
  }

  @Test
  void bytes_withEmbeddedZeroBytesAndEmptyElements_roundTrip() throws Exception {
    byte[] data = V2Wire.strings(new byte[0], new byte[] {0, 0, 0}, new byte[] {(byte) 0xff, 0, (byte) 0xfe},
        new byte[0]);
    V2Wire.Answer a = send(DT + "/infer", new V2Wire.Body("{\"parameters\":{\"signature_name\":\"bytes\"},"
        + "\"inputs\":[" + input("x", "[1,4]", "BYTES", "\"parameters\":{\"binary_data_size\":" + data.length + "}")
        + "],\"outputs\":[{\"name\":\"y\",\"parameters\":{\"binary_data\":true}}]}", V2Wire.parts(data)));
    assertEquals(200, a.status(), a.json().toString());
    assertArrayEquals(data, a.binary().get("y"));
  }

  @Test
  void mixedJsonAndBinaryInputs_inOneRequest() throws Exception {
    byte[] s = V2Wire.strings("one".getBytes(), new byte[] {0}, new byte[0]);
    V2Wire.Answer a = send(DT + "/infer", new V2Wire.Body("{\"parameters\":{\"signature_name\":\"mixed\"},"
        + "\"inputs\":[" + input("a", "[3]", "FP32", "\"data\":[1,2,3]") + "," + input("s", "[3]", "BYTES",
        "\"parameters\":{\"binary_data_size\":" + s.length + "}") + "],\"outputs\":[{\"name\":\"a_out\"},"
        + "{\"name\":\"s_out\",\"parameters\":{\"binary_data\":true}}]}", V2Wire.parts(s)));
    assertEquals(200, a.status(), a.json().toString());
    assertEquals("[1.0,2.0,3.0]", a.output("a_out").get("data").toString());
    assertArrayEquals(s, a.binary().get("s_out"));
  }

  // ---- requests byte for byte as Triton's HTTP client and the protocol documents build them ----

  @Test
  void tritonClient_binaryInputs_compactJson_noContentType() throws Exception {
    // tritonclient.http: InferInput.set_data_from_numpy(binary_data=True) for each input, no
    // requested outputs (so binary_data_output), json.dumps by rapidjson: compact.
    byte[] x = V2Wire.floats(1, 2, 3, 4);
    String header = "{\"inputs\":[{\"name\":\"x\",\"shape\":[2,2],\"datatype\":\"FP32\",\"parameters\":"
        + "{\"binary_data_size\":16}}],\"parameters\":{\"binary_data_output\":true}}";
    HttpRequest request = HttpRequest.newBuilder(server.uri(DT + "/infer"))
        .header("Inference-Header-Content-Length", Integer.toString(header.length()))
        .POST(HttpRequest.BodyPublishers.ofByteArray(new V2Wire.Body(header, V2Wire.parts(x)).bytes())).build();
    HttpResponse<byte[]> r = server.client.send(request, HttpResponse.BodyHandlers.ofByteArray());
    assertTrue(r.request().headers().firstValue("Content-Type").isEmpty());
    V2Wire.Answer a = V2Wire.read(r);
    assertEquals(200, a.status(), a.json().toString());
    int jsonLength = Integer.parseInt(r.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
    assertEquals(r.body().length - 32, jsonLength);
    assertArrayEquals(V2Wire.floats(2, 4, 6, 8), a.binary().get("double"));
    assertArrayEquals(V2Wire.floats(2, 3, 4, 5), a.binary().get("plus_one"));
  }

  @Test
  void protocolDocExample_withModelNameAndSpaces_octetStream() throws Exception {
    // extension_binary_data.md's example request: pretty JSON with "model_name", one binary input
    // and a binary output, Content-Type application/octet-stream.
    String header = "{\n  \"model_name\" : \"dtypes\",\n  \"inputs\" : [\n    {\n      \"name\" : \"x\",\n"
        + "      \"shape\" : [ 1, 3 ],\n      \"datatype\" : \"FP32\",\n      \"parameters\" : {\n"
        + "        \"binary_data_size\" : 12\n      }\n    }\n  ],\n  \"outputs\" : [\n    {\n"
        + "      \"name\" : \"double\",\n      \"parameters\" : {\n        \"binary_data\" : true\n      }\n    }\n"
        + "  ]\n}";
    V2Wire.Body body = new V2Wire.Body(header, V2Wire.parts(V2Wire.floats(1, 2, 3)));
    HttpResponse<byte[]> r = server.client.send(body.post(server.uri(DT + "/infer"))
        .header("Content-Type", "application/octet-stream").build(), HttpResponse.BodyHandlers.ofByteArray());
    V2Wire.Answer a = V2Wire.read(r);
    assertEquals(200, a.status(), a.json().toString());
    assertEquals("[{\"name\":\"double\",\"datatype\":\"FP32\",\"shape\":[1,3],\"parameters\":"
        + "{\"binary_data_size\":12}}]", a.json().get("outputs").toString());
    assertArrayEquals(V2Wire.floats(2, 4, 6), a.binary().get("double"));
  }

  @Test
  void tritonClient_jsonData_asPythonJsonDumpsWritesIt() throws Exception {
    // set_data_from_numpy(binary_data=False) and InferRequestedOutput("plus_one", binary_data=False),
    // json.dumps with its default separators; request id "7".
    String body = "{\"id\": \"7\", \"inputs\": [{\"name\": \"x\", \"shape\": [1, 2], \"datatype\": \"FP32\", "
        + "\"data\": [0.5, 1.5]}], \"outputs\": [{\"name\": \"plus_one\", \"parameters\": {\"binary_data\": false}}]}";
    V2Wire.Answer a = infer(body);
    assertEquals(200, a.status(), a.json().toString());
    assertEquals("7", a.json().get("id").asText());
    assertEquals("[1.5,2.5]", a.output("plus_one").get("data").toString());
  }

  @Test
  void gzipCompressedRequest_isInflated() throws Exception {
    byte[] json = ("{\"inputs\":[" + input("x", "[1,1]", "FP32", "\"data\":[3]") + "]}").getBytes();
    ByteArrayOutputStream zipped = new ByteArrayOutputStream();
    try (GZIPOutputStream z = new GZIPOutputStream(zipped)) {
      z.write(json);
    }
    HttpResponse<byte[]> r = server.client.send(HttpRequest.newBuilder(server.uri(DT + "/infer"))
        .header("Content-Encoding", "gzip").POST(HttpRequest.BodyPublishers.ofByteArray(zipped.toByteArray()))
        .build(), HttpResponse.BodyHandlers.ofByteArray());
    V2Wire.Answer a = V2Wire.read(r);
    assertEquals(200, a.status(), a.json().toString());
    assertEquals("[6.0]", a.output("double").get("data").toString());
  }

  // ---- deadlines and batching ----

  @Test
  void scheduleTimeoutParameter_expiredBeforeItRuns_is504() throws Exception {
    assertError(infer("{\"parameters\":{\"timeout\":1},\"inputs\":[" + input("x", "[1,1]", "FP32", "\"data\":[3]")
        + "]}"), 504, "deadline");
    assertError(infer("{\"parameters\":{\"priority\":2},\"inputs\":[" + input("x", "[1,1]", "FP32", "\"data\":[3]")
        + "]}"), 400, "priority");
  }

  @Test
  void v1AndV2Requests_forOneModel_shareABatch() throws Exception {
    HttpResponse<String> put = server.admin("PUT", "/admin/models/batch_probe",
        "{\"batching\": {\"max_batch_size\": 2, \"max_queue_delay_us\": 20000000}}");
    assertEquals(200, put.statusCode(), put.body());
    // The replica applies the setting once the desired state's change reaches it (Distributed
    // Data notifies every 200 ms): until then a lone request is answered at once; from then on it
    // waits for a second row until just before its own deadline (a batch never waits past the
    // earliest deadline in it), here 2 s.
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> {
      long t0 = System.nanoTime();
      HttpResponse<String> lone = server.client.send(HttpRequest.newBuilder(
          server.uri("/v1/models/batch_probe:predict")).header("X-Request-Timeout-Ms", "2000")
          .POST(HttpRequest.BodyPublishers.ofString("{\"instances\": [1.0]}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertTrue(lone.statusCode() == 200 || lone.statusCode() == 504, lone.statusCode() + " " + lone.body());
      return System.nanoTime() - t0 > 1_000_000_000L; // it waited: 200 just before its deadline, or 504
    });
    // Each waits for a second row for up to 20 s: only a shared batch answers both at once.
    CompletableFuture<HttpResponse<String>> v1 = server.client.sendAsync(HttpRequest.newBuilder(
        server.uri("/v1/models/batch_probe:predict")).POST(HttpRequest.BodyPublishers.ofString(
            "{\"instances\": [1.0]}")).build(), HttpResponse.BodyHandlers.ofString());
    V2Wire.Answer v2 = send("/v2/models/batch_probe/infer", new V2Wire.Body("{\"inputs\":[" + input("x", "[1]",
        "FP32", "\"data\":[2.0]") + "]}", List.of()));
    assertEquals(200, v2.status(), v2.json().toString());
    assertEquals("[2.0]", v2.output("rows").get("data").toString());
    assertEquals("[2.0]", v2.output("y").get("data").toString());
    assertEquals("{\"predictions\":[{\"rows\":2.0,\"y\":1.0}]}", v1.get().body());
  }

  // ---- bad input: a clear 4xx naming the problem, and the server keeps serving ----

  @Test
  void badInputs_are4xxNamingTheProblem() throws Exception {
    String ok = input("x", "[1,2]", "FP32", "\"data\":[1,2]");
    V2Wire.Body lying = new V2Wire.Body("{\"inputs\":[" + input("x", "[1,2]", "FP32",
        "\"parameters\":{\"binary_data_size\":8}") + "]}", V2Wire.parts(V2Wire.floats(1, 2)));
    assertError(V2Wire.read(server.client.send(lying.post(server.uri(DT + "/infer"))
        .setHeader(V2Wire.HEADER_LENGTH, "5000").build(), HttpResponse.BodyHandlers.ofByteArray())), 400,
        "Inference-Header-Content-Length", "5000", "only");
    assertError(send(DT + "/infer", new V2Wire.Body("{\"inputs\":[" + input("x", "[2,2]", "FP32",
        "\"parameters\":{\"binary_data_size\":8}") + "]}", V2Wire.parts(V2Wire.floats(1, 2)))), 400,
        "input 'x'", "8 bytes", "[2, 2]", "16 bytes");
    assertError(send(DT + "/infer", new V2Wire.Body("{\"inputs\":[" + input("x", "[1,2]", "FP32",
        "\"parameters\":{\"binary_data_size\":8}") + "]}", V2Wire.parts(V2Wire.floats(1, 2, 3)))), 400,
        "12 bytes after", "add up to 8");
    assertError(infer("{\"inputs\":[" + input("x", "[1,2]", "FP64", "\"data\":[1,2]") + "]}"), 400,
        "input 'x'", "expects datatype FP32", "gives FP64");
    assertError(infer("{\"inputs\":[" + input("x", "[1,2]", "INT8", "\"data\":[1,2]") + "]}"), 400,
        "INT8", "TensorFlow Java");
    assertError(infer("{\"inputs\":[" + input("x", "[1,2]", "FLOAT", "\"data\":[1,2]") + "]}"), 400,
        "unknown datatype 'FLOAT'", "FP32");
    assertError(infer("{\"inputs\":[" + input("x", "[2,2]", "FP32", "\"data\":[1,2,3]") + "]}"), 400,
        "input 'x'", "4 elements", "holds 3");
    assertError(infer("{\"inputs\":[" + ok + "," + input("z", "[1]", "FP32", "\"data\":[1]") + "]}"), 400,
        "'z'", "not in signature");
    assertError(infer("{\"parameters\":{\"signature_name\":\"mixed\"},\"inputs\":[" + input("a", "[1]", "FP32",
        "\"data\":[1]") + "]}"), 400, "missing input 's'");
    assertError(infer("{\"inputs\":[" + ok + ","), 400, "JSON parse error");
    assertError(infer("[1,2]"), 400, "must be a JSON object");
    assertError(infer("{\"inputs\":[" + input("x", "[1,2]", "FP32", "\"data\":[1,\"two\"]") + "]}"), 400,
        "element 1", "\"two\"", "not a number");
    assertError(send(DT + "/infer", new V2Wire.Body("{\"parameters\":{\"signature_name\":\"bool\"},\"inputs\":["
        + input("x", "[1,2]", "BOOL", "\"parameters\":{\"binary_data_size\":2}") + "]}", V2Wire.parts(
            new byte[] {1, 2}))), 400, "BOOL", "element 1", "byte 2");
    assertError(send(DT + "/infer", new V2Wire.Body("{\"parameters\":{\"signature_name\":\"bytes\"},\"inputs\":["
        + input("x", "[1,2]", "BYTES", "\"parameters\":{\"binary_data_size\":6}") + "]}", V2Wire.parts(
            V2Wire.strings("ab".getBytes())))), 400, "input 'x'", "element 1");
    assertError(infer("{\"inputs\":[" + ok + "],\"extra\":1}"), 400, "unknown field 'extra'");
    assertError(send("/v2/models/nope/infer", new V2Wire.Body("{\"inputs\":[" + ok + "]}", List.of())), 404,
        "Latest(nope)");
    assertError(send(DT + "/versions/3/infer", new V2Wire.Body("{\"inputs\":[" + ok + "]}", List.of())), 404,
        "Specific(dtypes, 3)");
    V2Wire.Answer after = infer("{\"inputs\":[" + ok + "]}");
    assertEquals(200, after.status(), "the server still serves: " + after.json());
  }

  @Test
  void limits_jsonAtMaxRequestBytes_binaryAtMaxBinaryBytes() throws Exception {
    int n = 25_000; // 100 KB of floats: over the JSON limit (64 KiB), under the binary one (256 KiB)
    byte[] floats = new byte[n * 4];
    V2Wire.Answer binary = send(DT + "/infer", new V2Wire.Body("{\"inputs\":[" + input("x", "[1," + n + "]", "FP32",
        "\"parameters\":{\"binary_data_size\":" + floats.length + "}") + "],\"outputs\":[{\"name\":\"double\","
        + "\"parameters\":{\"binary_data\":true}}]}", V2Wire.parts(floats)));
    assertEquals(200, binary.status(), binary.json().toString());
    assertEquals(floats.length, binary.binary().get("double").length);
    StringBuilder data = new StringBuilder("[");
    for (int i = 0; i < n; i++) {
      data.append(i == 0 ? "0.25" : ",0.25"); // 5 bytes per element: 125 KB
    }
    assertError(infer("{\"inputs\":[" + input("x", "[1," + n + "]", "FP32", "\"data\":" + data + "]") + "]}"), 413,
        "shardserve.gateway.max-request-bytes");
    String longId = "i".repeat(70 * 1024);
    assertError(send(DT + "/infer", new V2Wire.Body("{\"id\":\"" + longId + "\",\"inputs\":[" + input("x", "[1,1]", "FP32",
        "\"parameters\":{\"binary_data_size\":4}") + "]}", V2Wire.parts(V2Wire.floats(1)))), 413,
        "JSON part", "shardserve.gateway.max-request-bytes");
    byte[] huge = new byte[300 * 1024];
    assertError(send(DT + "/infer", new V2Wire.Body("{\"inputs\":[" + input("x", "[1," + huge.length / 4 + "]",
        "FP32", "\"parameters\":{\"binary_data_size\":" + huge.length + "}") + "]}", V2Wire.parts(huge))), 413,
        "shardserve.gateway.max-binary-bytes");
  }

  @Test
  void unknownPathsAndMethods() throws Exception {
    assertEquals(405, server.send(HttpRequest.newBuilder(server.uri(DT + "/infer")).GET()).statusCode());
    assertEquals(405, server.post("/v2/health/ready", "").statusCode());
    assertEquals(404, server.get("/v2/models/dtypes/explain").statusCode());
    HttpResponse<String> repository = server.post("/v2/repository/index", "{}");
    assertEquals(404, repository.statusCode());
    assertTrue(repository.body().contains("admin listener"), repository.body());
  }
}
