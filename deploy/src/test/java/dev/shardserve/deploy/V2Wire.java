package dev.shardserve.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Open Inference Protocol requests and answers on the wire, for tests: bodies built as Triton's
 * HTTP client builds them (the JSON, then each binary input's bytes, with
 * Inference-Header-Content-Length and no Content-Type), and answers taken apart the way its
 * {@code InferResult} does.
 */
final class V2Wire {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String HEADER_LENGTH = "Inference-Header-Content-Length";

  private V2Wire() {}

  /** A request body: the JSON text and the binary parts after it (none: a plain JSON request). */
  record Body(String json, List<byte[]> binary) {
    byte[] bytes() {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.writeBytes(json.getBytes(StandardCharsets.UTF_8));
      binary.forEach(out::writeBytes);
      return out.toByteArray();
    }

    /** POST to {@code uri} without a Content-Type header, as Triton's client sends it. */
    HttpRequest.Builder post(java.net.URI uri) {
      HttpRequest.Builder b = HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofByteArray(bytes()));
      if (!binary.isEmpty()) {
        b.header(HEADER_LENGTH, Integer.toString(json.getBytes(StandardCharsets.UTF_8).length));
      }
      return b;
    }
  }

  /** An answer: its JSON part and the binary data of each output (by name; null for JSON outputs). */
  record Answer(int status, JsonNode json, java.util.Map<String, byte[]> binary, HttpResponse<byte[]> raw) {
    JsonNode output(String name) {
      for (JsonNode o : json.get("outputs")) {
        if (o.get("name").asText().equals(name)) {
          return o;
        }
      }
      throw new AssertionError("no output " + name + " in " + json);
    }

    String error() {
      return json.path("error").asText();
    }
  }

  static Answer read(HttpResponse<byte[]> r) throws Exception {
    byte[] body = r.body();
    int jsonLength = r.headers().firstValue(HEADER_LENGTH).map(Integer::parseInt).orElse(body.length);
    JsonNode json = JSON.readTree(Arrays.copyOfRange(body, 0, jsonLength));
    java.util.Map<String, byte[]> binary = new java.util.LinkedHashMap<>();
    int at = jsonLength;
    if (json.has("outputs")) {
      for (JsonNode o : json.get("outputs")) {
        JsonNode size = o.path("parameters").path("binary_data_size");
        if (!size.isMissingNode()) {
          binary.put(o.get("name").asText(), Arrays.copyOfRange(body, at, at + size.asInt()));
          at += size.asInt();
        }
      }
    }
    if (at != body.length) {
      throw new AssertionError("answer has " + (body.length - at) + " bytes after its outputs");
    }
    return new Answer(r.statusCode(), json, binary, r);
  }

  static byte[] floats(float... v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putFloat(f);
    }
    return b.array();
  }

  /** BYTES elements in the binary format: a 4-byte little-endian length before each. */
  static byte[] strings(byte[]... elements) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] e : elements) {
      out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(e.length).array());
      out.writeBytes(e);
    }
    return out.toByteArray();
  }

  static List<byte[]> parts(byte[]... parts) {
    return new ArrayList<>(List.of(parts));
  }
}
