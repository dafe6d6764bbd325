package dev.shardserve.gateway.kserve;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.headers.RawHeader;
import akka.util.ByteString;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.Outputs;
import dev.shardserve.protocol.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes the v2 answers: the inference response ({@code $inference_response}) straight from the
 * batch's output buffers, its binary outputs appended after the JSON without a copy (the
 * response's body is a rope of the JSON and views of the output buffers, which are never
 * written after the batch ran); model and server metadata; health answers.
 */
final class V2ResponseWriter {
  /** The header that gives the JSON part's length when binary data follows it. */
  static final String HEADER_LENGTH = "Inference-Header-Content-Length";

  static final JsonFactory JSON = JsonFactory.builder().disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS)
      .enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER).build();

  private V2ResponseWriter() {}

  interface Body {
    void write(JsonGenerator g) throws IOException;
  }

  static byte[] write(Body body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      body.write(g);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /**
   * The answer to {@code request} from {@code outputs} (computed by {@code version}): the
   * selected outputs in order, each as JSON {@code data} or, when asked, binary data after the
   * JSON with {@code parameters.binary_data_size}.
   */
  static HttpResponse infer(String model, long version, V2Request request, Outputs outputs) {
    int[] selected = V2Outputs.select(outputs, request.outputs());
    boolean[] binary = new boolean[selected.length];
    boolean anyBinary = false;
    for (int k = 0; k < selected.length; k++) {
      binary[k] = request.binary(request.outputs().isEmpty() ? null : request.outputs().get(k));
      anyBinary |= binary[k];
    }
    ByteBuffer[] data = new ByteBuffer[selected.length];
    byte[] json = write(g -> {
      g.writeStartObject();
      g.writeStringField("model_name", model);
      g.writeStringField("model_version", Long.toString(version));
      if (request.id() != null) {
        g.writeStringField("id", request.id());
      }
      g.writeArrayFieldStart("outputs");
      for (int k = 0; k < selected.length; k++) {
        int i = selected[k];
        g.writeStartObject();
        g.writeStringField("name", outputs.name(i));
        g.writeStringField("datatype", outputs.dtype(i).kserveName());
        g.writeArrayFieldStart("shape");
        for (long d : outputs.shape(i)) {
          g.writeNumber(d);
        }
        g.writeEndArray();
        if (binary[k]) {
          data[k] = V2Tensors.encode(outputs, i);
          g.writeObjectFieldStart("parameters");
          g.writeNumberField("binary_data_size", data[k].remaining());
          g.writeEndObject();
        } else {
          g.writeFieldName("data");
          writeData(g, outputs, i);
        }
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    });
    HttpResponse r = HttpResponse.create().addHeader(RawHeader.create("X-Model-Version", Long.toString(version)));
    if (!anyBinary) {
      return r.withEntity(ContentTypes.APPLICATION_JSON, json);
    }
    ByteString body = ByteString.fromArrayUnsafe(json);
    for (ByteBuffer b : data) {
      if (b != null && b.remaining() > 0) {
        body = body.concat(ByteString.fromArrayUnsafe(b.array(), b.arrayOffset() + b.position(), b.remaining()));
      }
    }
    return r.addHeader(RawHeader.create(HEADER_LENGTH, Integer.toString(json.length)))
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_OCTET_STREAM, body));
  }

  /** Output i's elements as a flat JSON array, read in place from the batch's buffer. */
  private static void writeData(JsonGenerator g, Outputs outputs, int i) throws IOException {
    DType d = outputs.dtype(i);
    Tensor backing = outputs.backing(i);
    int from = outputs.elementOffset(i);
    int n = outputs.elementCount(i);
    g.writeStartArray();
    if (d.isString()) {
      List<byte[]> s = backing.strings();
      for (int k = 0; k < n; k++) {
        g.writeString(new String(s.get(from + k), StandardCharsets.UTF_8));
      }
      g.writeEndArray();
      return;
    }
    ByteBuffer b = ByteBuffer.wrap(backing.data()).order(ByteOrder.LITTLE_ENDIAN);
    if (d == DType.FLOAT32) {
      for (int k = 0; k < n; k++) {
        g.writeNumber(b.getFloat((from + k) * 4)); // the common case, without a switch per element
      }
      g.writeEndArray();
      return;
    }
    for (int k = from; k < from + n; k++) {
      switch (d) {
        case FLOAT64 -> g.writeNumber(b.getDouble(k * 8));
        case FLOAT16 -> g.writeNumber(HalfFloats.fromFloat16(b.getShort(k * 2)));
        case BFLOAT16 -> g.writeNumber(HalfFloats.fromBfloat16(b.getShort(k * 2)));
        case INT8 -> g.writeNumber(b.get(k));
        case INT16 -> g.writeNumber(b.getShort(k * 2));
        case INT32 -> g.writeNumber(b.getInt(k * 4));
        case INT64 -> g.writeNumber(b.getLong(k * 8));
        case UINT8 -> g.writeNumber(b.get(k) & 0xff);
        case UINT16 -> g.writeNumber(b.getShort(k * 2) & 0xffff);
        case UINT32 -> g.writeNumber(b.getInt(k * 4) & 0xffffffffL);
        case UINT64 -> g.writeNumber(new java.math.BigInteger(Long.toUnsignedString(b.getLong(k * 8))));
        case BOOL -> g.writeBoolean(b.get(k) != 0);
        default -> throw new IllegalStateException("unexpected dtype " + d);
      }
    }
    g.writeEndArray();
  }

  /** {@code $metadata_model_response}. */
  static byte[] modelMetadata(V2ModelMetadata m) {
    return write(g -> {
      g.writeStartObject();
      g.writeStringField("name", m.name());
      g.writeArrayFieldStart("versions");
      for (String v : m.versions()) {
        g.writeString(v);
      }
      g.writeEndArray();
      g.writeStringField("platform", m.platform());
      tensors(g, "inputs", m.inputs());
      tensors(g, "outputs", m.outputs());
      g.writeEndObject();
    });
  }

  private static void tensors(JsonGenerator g, String field, List<V2ModelMetadata.Tensor> tensors) throws IOException {
    g.writeArrayFieldStart(field);
    for (V2ModelMetadata.Tensor t : tensors) {
      g.writeStartObject();
      g.writeStringField("name", t.name());
      g.writeStringField("datatype", t.datatype());
      g.writeArrayFieldStart("shape");
      for (long d : t.shape()) {
        g.writeNumber(d);
      }
      g.writeEndArray();
      g.writeEndObject();
    }
    g.writeEndArray();
  }

  /** {@code $metadata_server_response}. */
  static byte[] serverMetadata(String name, String version, List<String> extensions) {
    return write(g -> {
      g.writeStartObject();
      g.writeStringField("name", name);
      g.writeStringField("version", version);
      g.writeArrayFieldStart("extensions");
      for (String e : extensions) {
        g.writeString(e);
      }
      g.writeEndArray();
      g.writeEndObject();
    });
  }

  /** A health answer: {@code {"<field>": true}} (and the model's name for model readiness). */
  static byte[] health(String field, String model) {
    return write(g -> {
      g.writeStartObject();
      if (model != null) {
        g.writeStringField("name", model);
      }
      g.writeBooleanField(field, true);
      g.writeEndObject();
    });
  }
}
