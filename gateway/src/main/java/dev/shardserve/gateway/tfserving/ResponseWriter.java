package dev.shardserve.gateway.tfserving;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol.ModelMetadata;
import dev.shardserve.protocol.ModelProtocol.ModelStatus;
import dev.shardserve.protocol.ModelProtocol.SignatureInfo;
import dev.shardserve.protocol.ModelProtocol.TensorInfo;
import dev.shardserve.protocol.ModelProtocol.VersionStatus;
import dev.shardserve.protocol.Outputs;
import dev.shardserve.protocol.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes TF Serving's JSON answers straight from tensors with a streaming generator:
 * predictions (row format), outputs (columnar), classify and regress results, model status and
 * metadata. Floats use TF Serving's tokens {@code NaN} and {@code Infinity}; outputs whose alias
 * ends in {@code _bytes} are written as {@code {"b64": ...}}.
 */
final class ResponseWriter {
  /** Floats and doubles are written by Jackson's fast writer (Schubfach): same shortest text, less CPU. */
  static final JsonFactory JSON = JsonFactory.builder().disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS)
      .enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER).build();

  private ResponseWriter() {}

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

  // ---- predict ----

  /**
   * Row format: {@code {"predictions": [...]}}, one entry per instance, written straight from the
   * outputs' buffers (the request's rows of its batch; no copy first).
   */
  static byte[] predictions(Outputs outputs) {
    int n = outputs.size();
    long batch = -1;
    for (int i = 0; i < n; i++) {
      long[] shape = outputs.shape(i);
      if (shape.length == 0) {
        throw new IllegalStateException("output '" + outputs.name(i)
            + "' is a scalar: the row format needs a batch dimension");
      }
      if (batch >= 0 && shape[0] != batch) {
        throw new IllegalStateException("outputs have different batch sizes (" + outputs.name(i) + " has "
            + shape[0] + ", others " + batch + "): use the columnar \"inputs\" format");
      }
      batch = shape[0];
    }
    long rows = batch;
    return write(g -> {
      g.writeStartObject();
      g.writeArrayFieldStart("predictions");
      Element[] elements = new Element[n];
      for (int i = 0; i < n; i++) {
        elements[i] = new Element(outputs, i);
      }
      for (int row = 0; row < rows; row++) {
        if (n == 1) {
          writeRow(g, elements[0], row);
        } else {
          g.writeStartObject();
          for (int i = 0; i < n; i++) {
            g.writeFieldName(outputs.name(i));
            writeRow(g, elements[i], row);
          }
          g.writeEndObject();
        }
      }
      g.writeEndArray();
      g.writeEndObject();
    });
  }

  /** Columnar format: {@code {"outputs": value}} for one output, an object for several. */
  static byte[] outputs(Outputs outputs) {
    int n = outputs.size();
    return write(g -> {
      g.writeStartObject();
      g.writeFieldName("outputs");
      if (n == 1) {
        Element e = new Element(outputs, 0);
        writeNested(g, e, e.shape, 0, 0);
      } else {
        g.writeStartObject();
        for (int i = 0; i < n; i++) {
          g.writeFieldName(outputs.name(i));
          Element e = new Element(outputs, i);
          writeNested(g, e, e.shape, 0, 0);
        }
        g.writeEndObject();
      }
      g.writeEndObject();
    });
  }

  /** One output, read in place: its dtype, its view's shape, its backing data from an element offset. */
  private static final class Element {
    final String name;
    final DType dtype;
    final long[] shape;
    final ByteBuffer data;
    final List<byte[]> strings;
    final int offset;
    final boolean b64;

    Element(Outputs outputs, int i) {
      Tensor backing = outputs.backing(i);
      this.name = outputs.name(i);
      this.dtype = outputs.dtype(i);
      this.shape = outputs.shape(i);
      this.offset = outputs.elementOffset(i);
      this.data = dtype.isString() ? null : backing.buffer();
      this.strings = dtype.isString() ? backing.strings() : null;
      this.b64 = name.endsWith("_bytes");
    }
  }

  private static void writeRow(JsonGenerator g, Element e, int row) throws IOException {
    long[] shape = e.shape;
    int rowSize = 1;
    for (int i = 1; i < shape.length; i++) {
      rowSize = Math.multiplyExact(rowSize, (int) shape[i]);
    }
    writeNested(g, e, shape, 1, row * rowSize);
  }

  /** Writes dimensions {@code dim..} starting at element {@code offset} of the view, row-major. */
  private static void writeNested(JsonGenerator g, Element e, long[] shape, int dim, int offset) throws IOException {
    if (dim == shape.length) {
      writeElement(g, e, offset);
      return;
    }
    int stride = 1;
    for (int i = dim + 1; i < shape.length; i++) {
      stride *= (int) shape[i];
    }
    g.writeStartArray();
    if (dim == shape.length - 1 && e.dtype == DType.FLOAT32) {
      int base = (e.offset + offset) * 4;
      for (int i = 0; i < shape[dim]; i++) {
        g.writeNumber(e.data.getFloat(base + i * 4)); // the common case, without a switch per element
      }
    } else {
      for (int i = 0; i < shape[dim]; i++) {
        writeNested(g, e, shape, dim + 1, offset + i * stride);
      }
    }
    g.writeEndArray();
  }

  private static void writeElement(JsonGenerator g, Element e, int at) throws IOException {
    DType d = e.dtype;
    int i = e.offset + at;
    if (d.isString()) {
      byte[] b = e.strings.get(i);
      if (e.b64) {
        g.writeStartObject();
        g.writeStringField("b64", Base64.getEncoder().encodeToString(b));
        g.writeEndObject();
      } else {
        g.writeString(new String(b, StandardCharsets.UTF_8));
      }
      return;
    }
    ByteBuffer buf = e.data;
    switch (d) {
      case FLOAT32 -> g.writeNumber(buf.getFloat(i * 4));
      case FLOAT64 -> g.writeNumber(buf.getDouble(i * 8));
      case FLOAT16 -> g.writeNumber(halfToFloat(buf.getShort(i * 2)));
      case BFLOAT16 -> g.writeNumber(Float.intBitsToFloat((buf.getShort(i * 2) & 0xffff) << 16));
      case INT8 -> g.writeNumber(buf.get(i));
      case INT16 -> g.writeNumber(buf.getShort(i * 2));
      case INT32 -> g.writeNumber(buf.getInt(i * 4));
      case INT64 -> g.writeNumber(buf.getLong(i * 8));
      case UINT8 -> g.writeNumber(buf.get(i) & 0xff);
      case UINT16 -> g.writeNumber(buf.getShort(i * 2) & 0xffff);
      case UINT32 -> g.writeNumber(buf.getInt(i * 4) & 0xffffffffL);
      case UINT64 -> g.writeNumber(Long.toUnsignedString(buf.getLong(i * 8)));
      case BOOL -> g.writeBoolean(buf.get(i) != 0);
      default -> throw new IllegalStateException("unexpected dtype " + d);
    }
  }

  static float halfToFloat(short h) {
    int bits = h & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      if (mant == 0) {
        return Float.intBitsToFloat(sign);
      }
      float v = mant / 1024f * (float) Math.pow(2, -14);
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
  }

  // ---- classify / regress ----

  /** {@code {"results": [[[label, score], ...], ...]}} from "classes" and/or "scores". */
  static byte[] classifyResults(Outputs result, int examples) {
    Map<String, Tensor> outputs = result.toMap();
    Tensor classes = outputs.get("classes");
    Tensor scores = outputs.get("scores");
    if (classes == null && scores == null) {
      throw new IllegalStateException("a classify signature needs output \"classes\" or \"scores\", has "
          + outputs.keySet());
    }
    Tensor shaped = scores != null ? scores : classes;
    int perExample = shaped.numElements() / Math.max(1, examples);
    if (shaped.numElements() != perExample * examples) {
      throw new IllegalStateException("classify outputs have " + shaped.numElements() + " values for " + examples
          + " examples");
    }
    return write(g -> {
      g.writeStartObject();
      g.writeArrayFieldStart("results");
      for (int e = 0; e < examples; e++) {
        g.writeStartArray();
        for (int k = 0; k < perExample; k++) {
          int i = e * perExample + k;
          g.writeStartArray();
          g.writeString(classes == null ? "" : new String(classes.strings().get(i), StandardCharsets.UTF_8));
          g.writeNumber(scores == null ? 0.0 : scoreAt(scores, i));
          g.writeEndArray();
        }
        g.writeEndArray();
      }
      g.writeEndArray();
      g.writeEndObject();
    });
  }

  private static double scoreAt(Tensor t, int i) {
    return switch (t.dtype()) {
      case FLOAT32 -> t.buffer().getFloat(i * 4);
      case FLOAT64 -> t.buffer().getDouble(i * 8);
      default -> throw new IllegalStateException("scores must be float, are " + t.dtype());
    };
  }

  /** {@code {"results": [v, ...]}}, one value per example, from output "outputs". */
  static byte[] regressResults(Outputs result, int examples) {
    Map<String, Tensor> outputs = result.toMap();
    Tensor t = outputs.get("outputs");
    if (t == null || outputs.size() != 1) {
      throw new IllegalStateException("a regress signature needs exactly one output \"outputs\", has "
          + outputs.keySet());
    }
    if (t.numElements() != examples) {
      throw new IllegalStateException("regress output has " + t.numElements() + " values for " + examples
          + " examples");
    }
    return write(g -> {
      g.writeStartObject();
      g.writeArrayFieldStart("results");
      for (int i = 0; i < examples; i++) {
        switch (t.dtype()) {
          case FLOAT32 -> g.writeNumber(t.buffer().getFloat(i * 4));
          case FLOAT64 -> g.writeNumber(t.buffer().getDouble(i * 8));
          default -> throw new IllegalStateException("regress output must be float, is " + t.dtype());
        }
      }
      g.writeEndArray();
      g.writeEndObject();
    });
  }

  // ---- status / metadata ----

  /** TF Serving's {@code GetModelStatusResponse} in JSON. */
  static byte[] status(ModelStatus status) {
    return write(g -> {
      g.writeStartObject();
      g.writeArrayFieldStart("model_version_status");
      for (VersionStatus v : status.versions()) {
        g.writeStartObject();
        g.writeStringField("version", Long.toString(v.version()));
        g.writeStringField("state", v.state().name());
        g.writeObjectFieldStart("status");
        g.writeStringField("error_code", v.errorCode() == null ? "OK" : canonicalCode(v.errorCode()));
        g.writeStringField("error_message", v.errorMessage());
        g.writeEndObject();
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    });
  }

  private static String canonicalCode(ErrorCode code) {
    return switch (code) {
      case MODEL_NOT_FOUND, VERSION_NOT_FOUND -> "NOT_FOUND";
      case INVALID_INPUT, SIGNATURE_NOT_FOUND, LABEL_NOT_FOUND -> "INVALID_ARGUMENT";
      case DEADLINE_EXCEEDED -> "DEADLINE_EXCEEDED";
      case OVERLOADED, MODEL_NOT_READY, UNAVAILABLE -> "UNAVAILABLE";
      default -> "UNKNOWN";
    };
  }

  /** TF Serving's {@code GetModelMetadataResponse} in JSON (signature_def nested twice, as it is). */
  static byte[] metadata(String model, ModelMetadata meta) {
    return write(g -> {
      g.writeStartObject();
      g.writeObjectFieldStart("model_spec");
      g.writeStringField("name", model);
      g.writeStringField("signature_name", "");
      g.writeStringField("version", Long.toString(meta.version()));
      g.writeEndObject();
      g.writeObjectFieldStart("metadata");
      g.writeObjectFieldStart("signature_def");
      g.writeObjectFieldStart("signature_def");
      for (Map.Entry<String, SignatureInfo> e : new TreeMap<>(meta.signatures()).entrySet()) {
        g.writeObjectFieldStart(e.getKey());
        writeInfos(g, "inputs", e.getValue().inputs());
        writeInfos(g, "outputs", e.getValue().outputs());
        g.writeStringField("method_name", e.getValue().methodName());
        g.writeObjectFieldStart("defaults");
        g.writeEndObject();
        g.writeEndObject();
      }
      g.writeEndObject();
      g.writeEndObject();
      g.writeEndObject();
      g.writeEndObject();
    });
  }

  private static void writeInfos(JsonGenerator g, String field, Map<String, TensorInfo> infos) throws IOException {
    g.writeObjectFieldStart(field);
    for (Map.Entry<String, TensorInfo> e : new TreeMap<>(infos).entrySet()) {
      TensorInfo t = e.getValue();
      g.writeObjectFieldStart(e.getKey());
      g.writeStringField("dtype", t.dtype());
      g.writeObjectFieldStart("tensor_shape");
      g.writeArrayFieldStart("dim");
      for (long d : t.shape()) {
        g.writeStartObject();
        g.writeStringField("size", Long.toString(d));
        g.writeStringField("name", "");
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeBooleanField("unknown_rank", t.unknownRank());
      g.writeEndObject();
      g.writeStringField("name", t.name());
      g.writeEndObject();
    }
    g.writeEndObject();
  }
}
