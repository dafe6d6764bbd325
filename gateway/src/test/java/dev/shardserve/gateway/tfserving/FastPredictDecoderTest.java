package dev.shardserve.gateway.tfserving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The fast decoder against the full one: on a generated corpus of valid and broken predict
 * bodies, whenever the fast path returns a tensor, the full decoder (then the node's conversion
 * to the signature's dtype) gives the very same bytes; whenever the full path refuses a body (or
 * the conversion would), the fast path returns null, so the full decoder's error is the answer.
 */
class FastPredictDecoderTest {
  static final List<DType> TYPES = List.of(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64);

  /** What the full path gives: a tensor in {@code type}, or null when it refuses the body or the value. */
  static Map<String, Tensor> full(byte[] body, Map<String, DType> types) {
    PredictRequest req;
    try (JsonParser p = RequestJson.FACTORY.createParser(body)) {
      req = PredictRequest.parse(p);
      if (p.nextToken() != null) {
        return null;
      }
    } catch (IOException | RuntimeException e) {
      return null;
    }
    Map<String, Tensor> out = new java.util.HashMap<>();
    for (Map.Entry<String, Tensor> e : req.inputs().entrySet()) {
      DType type = e.getKey().isEmpty() && types.size() == 1 ? types.values().iterator().next() : types.get(e.getKey());
      if (type == null) {
        return null;
      }
      Tensor converted = convert(e.getValue(), type);
      if (converted == null) {
        return null;
      }
      out.put(e.getKey(), converted);
    }
    return out;
  }

  /** The node's conversion (InputCoercion) of the full decoder's INT64/FLOAT64, or null where it refuses. */
  static Tensor convert(Tensor t, DType type) {
    if (t.dtype() != DType.INT64 && t.dtype() != DType.FLOAT64) {
      return null;
    }
    int n = t.numElements();
    ByteBuffer in = t.buffer();
    ByteBuffer out = ByteBuffer.allocate(n * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      boolean integral = t.dtype() == DType.INT64;
      long l = integral ? in.getLong(i * 8) : (long) in.getDouble(i * 8);
      double d = integral ? (double) l : in.getDouble(i * 8);
      switch (type) {
        case FLOAT32 -> out.putFloat((float) d);
        case FLOAT64 -> out.putDouble(d);
        case INT32, INT64 -> {
          if (!integral && (d != Math.rint(d) || Double.isInfinite(d))) {
            return null;
          }
          if (type == DType.INT32 && (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE)) {
            return null;
          }
          if (type == DType.INT32) {
            out.putInt((int) l);
          } else {
            out.putLong(l);
          }
        }
        default -> throw new IllegalStateException();
      }
    }
    return Tensor.of(type, t.shape(), out.array());
  }

  static String number(Random r) {
    if (r.nextInt(4) != 0) { // the common case: what clients send
      return r.nextBoolean() ? String.format(Locale.ROOT, "%.4f", r.nextFloat()) : Integer.toString(r.nextInt(100));
    }
    return switch (r.nextInt(12)) {
      case 0 -> Integer.toString(r.nextInt(2000) - 1000);
      case 1 -> Long.toString(r.nextLong());
      case 2 -> String.format(Locale.ROOT, "%.4f", r.nextFloat());
      case 3 -> String.format(Locale.ROOT, "%.17g", r.nextDouble() * 1e6).replace("e+", "e");
      case 4 -> r.nextInt(100) + "e" + (r.nextInt(60) - 30);
      case 5 -> "-0.0";
      case 6 -> "-0";
      case 7 -> Double.toString(r.nextGaussian() * Math.pow(10, r.nextInt(40) - 20));
      case 8 -> "12345678901234567890"; // beyond a long: the full decoder refuses it
      case 9 -> "0.000000000000000000001234567";
      case 10 -> "3.4028236e38"; // just over the largest float
      default -> Float.toString(r.nextFloat());
    };
  }

  static String array(Random r, int[] shape, int depth) {
    if (depth == shape.length) {
      return number(r);
    }
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < shape[depth]; i++) {
      b.append(i == 0 ? "" : r.nextInt(4) == 0 ? " , " : ",").append(array(r, shape, depth + 1));
    }
    return b.append(']').toString();
  }

  static String body(Random r) {
    int rank = 1 + r.nextInt(3);
    int[] shape = new int[rank];
    for (int i = 0; i < rank; i++) {
      shape[i] = 1 + r.nextInt(4);
    }
    String tensor = array(r, shape, 0);
    String sig = r.nextInt(3) == 0 ? "\"signature_name\": \"serving_default\", " : "";
    String b = switch (r.nextInt(4)) {
      case 0 -> "{" + sig + "\"instances\": " + tensor + "}";
      case 1 -> "{\"inputs\": " + tensor + (sig.isEmpty() ? "" : ", " + sig.substring(0, sig.length() - 2)) + "}";
      case 2 -> "{" + sig + "\"inputs\": {\"x\": " + tensor + "}}";
      default -> "\n { \"instances\" :\t" + tensor + " } \n";
    };
    return r.nextInt(3) == 0 ? mutate(r, b) : b;
  }

  /** A broken or unusual variant: the full decoder's rules must decide it. */
  static String mutate(Random r, String b) {
    int at = r.nextInt(b.length());
    return switch (r.nextInt(9)) {
      case 0 -> b.substring(0, at);
      case 1 -> b.substring(0, at) + "]" + b.substring(at);
      case 2 -> b.substring(0, at) + "\"s\"" + b.substring(at);
      case 3 -> b.replaceFirst("\\[", "[[]");
      case 4 -> b.replaceFirst("[0-9]", "NaN");
      case 5 -> b + "{}";
      case 6 -> b.replaceFirst("\\{", "{\"extra\": 1, ");
      case 7 -> b.replace("instances", "instances\", \"instances");
      default -> b.replaceFirst("[0-9]", "true");
    };
  }

  @Test
  void onAGeneratedCorpus_theFastPathAgreesWithTheFullDecoder_orStepsAside() {
    Random r = new Random(20261201);
    int fast = 0;
    int corpus = 6000;
    for (int i = 0; i < corpus; i++) {
      String text = body(r);
      byte[] body = text.getBytes(StandardCharsets.UTF_8);
      DType type = TYPES.get(r.nextInt(TYPES.size()));
      Map<String, DType> types = Map.of("x", type);
      Map<String, Tensor> got = PredictJson.decodeFast(body, types);
      Map<String, Tensor> expected = full(body, types);
      if (got == null) {
        continue;
      }
      fast++;
      if (expected == null) {
        fail("the fast path accepted what the full decoder refuses (" + type + "): " + text);
      }
      assertEquals(expected.keySet(), got.keySet(), text);
      for (String k : expected.keySet()) {
        Tensor e = expected.get(k);
        Tensor g = got.get(k);
        assertEquals(e.dtype(), g.dtype(), text);
        assertArrayEquals(e.shape(), g.shape(), text);
        assertArrayEquals(e.data(), g.data(), () -> type + " bytes differ for " + text);
      }
    }
    assertTrue(fast > corpus / 4, "the fast path took " + fast + " of " + corpus + " bodies");
  }

  @Test
  void theSuiteBody_isDecodedStraightIntoFloats() {
    StringBuilder b = new StringBuilder("{\"instances\": [[");
    for (int i = 0; i < 784; i++) {
      b.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.4f", i / 1000.0));
    }
    byte[] body = b.append("]]}").toString().getBytes(StandardCharsets.UTF_8);
    Tensor t = PredictJson.decodeFast(body, Map.of("x", DType.FLOAT32)).get("");
    assertNotNull(t);
    assertEquals(DType.FLOAT32, t.dtype());
    assertArrayEquals(new long[] {1, 784}, t.shape());
    assertEquals(0.783f, t.floats()[783]);
  }

  @Test
  void anUnknownDtype_aStringInput_orSeveralInputsPerInstance_goToTheFullDecoder() {
    byte[] body = "{\"instances\": [1, 2]}".getBytes(StandardCharsets.UTF_8);
    assertNull(PredictRequestAccess.fast(body, null));
    assertNull(PredictJson.decodeFast(body, Map.of("x", DType.STRING)));
    assertNull(PredictJson.decodeFast("{\"instances\": [{\"a\": 1, \"b\": 2}]}".getBytes(StandardCharsets.UTF_8),
        Map.of("a", DType.FLOAT32, "b", DType.FLOAT32)));
  }

  @Test
  void aSignatureNamedAfterTheInputs_thatDiffersFromTheDefault_goesToTheFullDecoder() {
    byte[] body = "{\"instances\": [1, 2], \"signature_name\": \"other\"}".getBytes(StandardCharsets.UTF_8);
    assertNull(FastPredictDecoder.decode(body, sig -> Map.of("x", DType.FLOAT32)));
    byte[] before = "{\"signature_name\": \"other\", \"instances\": [1, 2]}".getBytes(StandardCharsets.UTF_8);
    List<String> asked = new ArrayList<>();
    PredictRequest req = FastPredictDecoder.decode(before, sig -> {
      asked.add(sig);
      return Map.of("x", DType.INT64);
    });
    assertEquals(List.of("other"), asked, "dtypes come from the signature the body names");
    assertEquals("other", req.signatureName());
    assertEquals(DType.INT64, req.inputs().get("").dtype());
  }

  /**
   * The fast path once decoded a key or signature name as UTF-8 itself, so bytes that are not
   * UTF-8 became U+FFFD where the full decoder refuses the body: now only plain ASCII is taken,
   * as the v2 fast decoder does, and anything else is left to the full decoder.
   */
  @Test
  void namesThatAreNotAscii_giveUp_soThatTheFullDecoderChecksTheirUtf8() throws IOException {
    Function<String, Map<String, DType>> types = sig -> Map.of("x", DType.FLOAT32, "\u00e9", DType.FLOAT32);
    byte[] notUtf8 = "{\"signature_name\": \"\u00f3s\", \"inputs\": {\"x\": [1.5]}}"
        .getBytes(StandardCharsets.ISO_8859_1);
    assertNull(FastPredictDecoder.decode(notUtf8, types));
    JsonParseException e = assertThrows(JsonParseException.class, () -> PredictJson.decode(notUtf8));
    assertTrue(e.getOriginalMessage().startsWith("Invalid UTF-8"), e.getOriginalMessage());

    byte[] utf8 = "{\"signature_name\": \"\u00e9t\u00e9\", \"instances\": [1.5]}".getBytes(StandardCharsets.UTF_8);
    assertNull(FastPredictDecoder.decode(utf8, sig -> Map.of("x", DType.FLOAT32)));
    try (JsonParser p = RequestJson.FACTORY.createParser(utf8)) {
      assertEquals("\u00e9t\u00e9", PredictRequest.parse(p).signatureName());
    }

    byte[] utf8Key = "{\"inputs\": {\"\u00e9\": [1.5]}}".getBytes(StandardCharsets.UTF_8);
    assertNull(FastPredictDecoder.decode(utf8Key, types));
    assertEquals(Tensor.ofFloats(new long[] {1}, 1.5f),
        convert(PredictJson.decode(utf8Key).get("\u00e9"), DType.FLOAT32));
  }

  /** The fast path with no dtypes known. */
  static final class PredictRequestAccess {
    static PredictRequest fast(byte[] body, Map<String, DType> types) {
      return FastPredictDecoder.decode(body, sig -> types);
    }
  }
}
