package dev.shardserve.gateway.tfserving;

import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.ModelProtocol;
import dev.shardserve.protocol.Tensor;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The fast path for the common predict body: numbers only, decoded straight into the
 * signature's dtype (FLOAT32, FLOAT64, INT32, INT64) as little-endian bytes, in one pass over the
 * body with no token objects and no intermediate {@code double[]}/{@code long[]}. It takes
 * {@code {"instances": [...]}} for a signature with one input, {@code {"inputs": [...]}} and
 * {@code {"inputs": {"name": [...], ...}}}, each optionally with a plain {@code "signature_name"}.
 * Anything else (strings, {@code b64}, booleans, objects per instance, {@code NaN}, escapes,
 * ragged or empty lists, a number this path cannot convert exactly as the full decoder would,
 * a dtype it does not write, unknown keys) makes it return null, and the full decoder
 * ({@link PredictRequest}) reads the body with its own errors: the two agree on every tensor this
 * one returns (a property test checks it).
 *
 * <p>Numbers are parsed as the full decoder's Jackson parser does, to the nearest double (exactly:
 * up to 15 significant digits and a power of ten up to 22 by Clinger's fast path, otherwise by
 * {@link Double#parseDouble}), then narrowed as the node's conversion would ({@code (float) d}).
 * Jackson's tokenizer cost ~37 µs for a 784-float row; this scan costs a fraction of it (JMH in
 * {@code perf/}, numbers in the README).
 */
final class FastPredictDecoder {
  private static final VarHandle FLOATS = MethodHandles.byteArrayViewVarHandle(float[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle DOUBLES =
      MethodHandles.byteArrayViewVarHandle(double[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle INTS = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final double[] POW10 = {
      1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
      1e19, 1e20, 1e21, 1e22};
  private static final int MAX_RANK = 7;

  /** Thrown inside the scan to give up; never escapes. Preallocated, no stack trace. */
  private static final class GiveUp extends RuntimeException {
    GiveUp() {
      super(null, null, false, false);
    }
  }

  private static final GiveUp GIVE_UP = new GiveUp();

  private final byte[] in;
  private int pos;
  // the tensor being read
  private DType dtype;
  private byte[] out;
  private int count;
  private final long[] dims = new long[MAX_RANK + 1];
  private int rank;

  private FastPredictDecoder(byte[] in) {
    this.in = in;
  }

  /**
   * The request, or null when the body is not of the simple numeric form (or a dtype is not
   * known): then the caller runs the full decoder.
   *
   * @param typesOf a signature's input dtypes by alias (from the replica that will run it), or
   *     null when not known
   */
  static PredictRequest decode(byte[] body, Function<String, Map<String, DType>> typesOf) {
    try {
      return new FastPredictDecoder(body).request(typesOf);
    } catch (GiveUp | ArrayIndexOutOfBoundsException e) {
      return null;
    }
  }

  private PredictRequest request(Function<String, Map<String, DType>> typesOf) {
    String signature = ModelProtocol.DEFAULT_SIGNATURE;
    String typedFor = null;
    Map<String, DType> types = null;
    Map<String, Tensor> inputs = null;
    Boolean row = null;
    ws();
    expect('{');
    ws();
    if (peek() == '}') {
      throw GIVE_UP;
    }
    while (true) {
      String key = plainString();
      ws();
      expect(':');
      ws();
      if (!key.equals("signature_name") && types == null) {
        types = typesOf.apply(signature);
        typedFor = signature;
        if (types == null || types.isEmpty()) {
          throw GIVE_UP;
        }
      }
      switch (key) {
        case "signature_name" -> {
          signature = plainString();
          if (typedFor != null && !typedFor.equals(signature)) {
            throw GIVE_UP; // named after the inputs: they were read in another signature's dtypes
          }
        }
        case "instances" -> {
          if (row != null || types.size() != 1) {
            throw GIVE_UP;
          }
          row = true;
          DType t = types.values().iterator().next();
          inputs = Map.of(PredictRequest.SOLE_INPUT, tensor(t, true));
        }
        case "inputs" -> {
          if (row != null) {
            throw GIVE_UP;
          }
          row = false;
          inputs = columnar(types);
        }
        default -> throw GIVE_UP;
      }
      ws();
      byte b = next();
      if (b == '}') {
        break;
      }
      if (b != ',') {
        throw GIVE_UP;
      }
      ws();
    }
    ws();
    if (pos != in.length || row == null) {
      throw GIVE_UP;
    }
    return new PredictRequest(signature, row, inputs);
  }

  private Map<String, Tensor> columnar(Map<String, DType> types) {
    if (peek() != '{') {
      if (types.size() != 1) {
        throw GIVE_UP;
      }
      return Map.of(PredictRequest.SOLE_INPUT, tensor(types.values().iterator().next(), false));
    }
    pos++;
    ws();
    Map<String, Tensor> out = new HashMap<>();
    while (true) {
      String name = plainString();
      DType t = types.get(name);
      if (t == null || out.containsKey(name)) {
        throw GIVE_UP;
      }
      ws();
      expect(':');
      ws();
      out.put(name, tensor(t, false));
      ws();
      byte b = next();
      if (b == '}') {
        return out;
      }
      if (b != ',') {
        throw GIVE_UP;
      }
      ws();
    }
  }

  /** One tensor at the cursor: a nested list of numbers (the row format needs a list). */
  private Tensor tensor(DType t, boolean list) {
    int size = switch (t) {
      case FLOAT32, INT32 -> 4;
      case FLOAT64, INT64 -> 8;
      default -> throw GIVE_UP;
    };
    dtype = t;
    out = new byte[Math.max(64, Math.min(in.length, 1 << 24) / 4 * size)];
    count = 0;
    rank = -1;
    Arrays.fill(dims, -1);
    if (peek() != '[') {
      if (list) {
        throw GIVE_UP;
      }
      leafAt(0);
      number();
    } else {
      value(0);
    }
    long[] shape = Arrays.copyOf(dims, rank);
    return Tensor.of(t, shape, out.length == count * size ? out : Arrays.copyOf(out, count * size));
  }

  private void value(int depth) {
    if (peek() == '[') {
      if (depth >= MAX_RANK) {
        throw GIVE_UP;
      }
      pos++;
      ws();
      if (peek() == ']') {
        throw GIVE_UP; // empty lists: the full decoder's rules
      }
      long n = 0;
      while (true) {
        value(depth + 1);
        n++;
        ws();
        byte b = next();
        if (b == ']') {
          break;
        }
        if (b != ',') {
          throw GIVE_UP;
        }
        ws();
      }
      if (dims[depth] == -1) {
        dims[depth] = n;
      } else if (dims[depth] != n) {
        throw GIVE_UP; // ragged
      }
    } else {
      leafAt(depth);
      number();
    }
  }

  private void leafAt(int depth) {
    if (rank == -1) {
      rank = depth;
    } else if (rank != depth) {
      throw GIVE_UP;
    }
  }

  /** Parses one JSON number at the cursor and appends it in the tensor's dtype. */
  private void number() {
    int start = pos;
    boolean negative = false;
    if (peek() == '-') {
      negative = true;
      pos++;
    }
    long mantissa = 0;
    int digits = 0;
    int scale = 0;
    int c = peek();
    if (c == '0') {
      pos++;
      c = pos < in.length ? in[pos] : -1;
      if (c >= '0' && c <= '9') {
        throw GIVE_UP; // a leading zero: not JSON
      }
    } else if (c >= '1' && c <= '9') {
      while (c >= '0' && c <= '9') {
        if (digits < 18) {
          mantissa = mantissa * 10 + (c - '0');
          digits++;
        } else {
          scale++;
          digits++;
        }
        pos++;
        c = pos < in.length ? in[pos] : -1;
      }
    } else {
      throw GIVE_UP;
    }
    boolean integral = true;
    if (c == '.') {
      integral = false;
      pos++;
      c = pos < in.length ? in[pos] : -1;
      if (c < '0' || c > '9') {
        throw GIVE_UP;
      }
      while (c >= '0' && c <= '9') {
        if (digits < 18) {
          mantissa = mantissa * 10 + (c - '0');
          if (mantissa != 0) {
            digits++;
          }
          scale--;
        } else {
          digits++;
        }
        pos++;
        c = pos < in.length ? in[pos] : -1;
      }
    }
    int exponent = 0;
    if (c == 'e' || c == 'E') {
      integral = false;
      pos++;
      c = pos < in.length ? in[pos] : -1;
      boolean negExp = false;
      if (c == '+' || c == '-') {
        negExp = c == '-';
        pos++;
        c = pos < in.length ? in[pos] : -1;
      }
      if (c < '0' || c > '9') {
        throw GIVE_UP;
      }
      while (c >= '0' && c <= '9') {
        exponent = exponent * 10 + (c - '0');
        if (exponent > 1000) {
          throw GIVE_UP;
        }
        pos++;
        c = pos < in.length ? in[pos] : -1;
      }
      if (negExp) {
        exponent = -exponent;
      }
    }
    if (integral && digits > 18) {
      throw GIVE_UP; // an integer Jackson may refuse as out of range: the full decoder's rules
    }
    int size = dtype.byteSize();
    if (count * size + size > out.length) {
      out = Arrays.copyOf(out, Math.max(out.length * 2, 64));
    }
    int at = count * size;
    switch (dtype) {
      case INT64, INT32 -> {
        if (!integral || scale != 0) {
          throw GIVE_UP; // fractions and huge integers: the full decoder's errors
        }
        long v = negative ? -mantissa : mantissa;
        if (dtype == DType.INT32) {
          if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw GIVE_UP;
          }
          INTS.set(out, at, (int) v);
        } else {
          LONGS.set(out, at, v);
        }
      }
      default -> {
        double d;
        if (integral) {
          d = (double) (negative ? -mantissa : mantissa); // as the full path's long -> double (no -0)
        } else {
          d = toDouble(negative, mantissa, digits, scale + exponent, start);
        }
        if (dtype == DType.FLOAT32) {
          FLOATS.set(out, at, (float) d);
        } else {
          DOUBLES.set(out, at, d);
        }
      }
    }
    count++;
  }

  /** The nearest double, as Jackson's parser gives it. */
  private double toDouble(boolean negative, long mantissa, int digits, int exp10, int start) {
    if (digits <= 15 && exp10 >= -22 && exp10 <= 22) {
      double d = (double) mantissa;
      d = exp10 >= 0 ? d * POW10[exp10] : d / POW10[-exp10];
      return negative ? -d : d;
    }
    if (mantissa == 0 && digits == 0) {
      return negative ? -0.0 : 0.0;
    }
    return Double.parseDouble(new String(in, start, pos - start, StandardCharsets.ISO_8859_1));
  }

  /** A string without escapes (a key or a signature name); anything else gives up. */
  private String plainString() {
    expect('"');
    int start = pos;
    while (true) {
      byte b = in[pos];
      if (b == '"') {
        break;
      }
      if (b == '\\' || (b & 0xff) < 0x20) {
        throw GIVE_UP;
      }
      pos++;
    }
    String s = new String(in, start, pos - start, StandardCharsets.UTF_8);
    pos++;
    return s;
  }

  private void ws() {
    while (pos < in.length) {
      byte b = in[pos];
      if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
        return;
      }
      pos++;
    }
  }

  private int peek() {
    if (pos >= in.length) {
      throw GIVE_UP;
    }
    return in[pos];
  }

  private byte next() {
    if (pos >= in.length) {
      throw GIVE_UP;
    }
    return in[pos++];
  }

  private void expect(char c) {
    if (next() != c) {
      throw GIVE_UP;
    }
  }
}
