package dev.shardserve.gateway.json;

import dev.shardserve.protocol.DType;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The byte scanner under the gateway's fast JSON decoders (TF Serving's predict bodies in
 * {@code tfserving.FastPredictDecoder}, the Open Inference Protocol's v2 requests in
 * {@code kserve.V2FastDecoder}): a cursor over {@code in[offset, offset + length)}, whitespace,
 * plain ASCII strings, and JSON numbers written straight into a tensor's dtype ({@code FLOAT32},
 * {@code FLOAT64}, {@code INT32}, {@code INT64}) as little-endian bytes, with no token objects and
 * no allocation per number. A decoder extends it (one final subclass each, every method here is
 * final, so nothing on the hot path is a virtual call), reads its own structure with these
 * methods, and throws {@link #GIVE_UP} on anything outside its simple form; its caller catches
 * {@link GiveUp} and returns null, and the full (Jackson) decoder then reads the body with its own
 * errors. Each rule that gives up here is one where the full decoder would refuse the value or
 * decode it differently.
 *
 * <p>Numbers are parsed as the full decoders' Jackson parser does, to the nearest double (exactly:
 * up to 15 significant digits and a power of ten up to 22 by Clinger's fast path, otherwise by
 * {@link Double#parseDouble}), then narrowed as the node's conversion would ({@code (float) d}).
 *
 * <p>The tensor being written is {@link #out} ({@link #count} numbers of {@link #dtype} so far),
 * set up by the subclass before it reads the numbers. When a number does not fit, the scanner
 * either doubles {@code out} (a decoder that sized it from the body and learns the shape as it
 * reads) or gives up (a decoder that sized it from a declared shape: one number more is the full
 * decoder's error).
 */
public abstract class JsonScanner {
  private static final VarHandle FLOATS = MethodHandles.byteArrayViewVarHandle(float[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle DOUBLES =
      MethodHandles.byteArrayViewVarHandle(double[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle INTS = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final double[] POW10 = {
      1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
      1e19, 1e20, 1e21, 1e22};

  /** Thrown inside the scan to give up; never escapes the decoder. Preallocated, no stack trace. */
  protected static final class GiveUp extends RuntimeException {
    private GiveUp() {
      super(null, null, false, false);
    }
  }

  protected static final GiveUp GIVE_UP = new GiveUp();

  protected final byte[] in;
  /** The end of the JSON text in {@link #in} (exclusive). */
  protected final int end;
  protected int pos;
  // the tensor being read
  protected DType dtype;
  protected byte[] out;
  protected int count;
  private final boolean growOut;

  /**
   * A scanner over {@code in[offset, offset + length)}, at {@code offset}.
   *
   * @param growOut whether {@link #number()} doubles {@link #out} when it is full; otherwise it
   *     gives up there
   */
  protected JsonScanner(byte[] in, int offset, int length, boolean growOut) {
    this.in = in;
    this.pos = offset;
    this.end = offset + length;
    this.growOut = growOut;
  }

  /**
   * Parses one JSON number at the cursor and appends it in the tensor's dtype.
   *
   * <p>Its characters are read up to {@code in.length}, not {@link #end}: against the array's own
   * length the JIT drops the index check of {@code in[pos]} (a few per cent of a 784-float row). A
   * number that runs past {@code end} gives up before anything is written, which is the answer a
   * scan bounded by {@code end} gives too: it would stop the number at {@code end}, and the text
   * the decoders read is an object, which cannot end in a number, so their next token (read within
   * {@code end}) would give up.
   */
  protected final void number() {
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
        } else {
          scale++;
        }
        digits++;
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
    if (pos > end) {
      throw GIVE_UP; // ran past the JSON text (into a v2 body's binary part): see the method's comment
    }
    if (integral && digits > 18) {
      throw GIVE_UP; // an integer Jackson may refuse as out of range: the full decoder's rules
    }
    int size = dtype.byteSize();
    int at = count * size;
    if (at + size > out.length) {
      if (!growOut) {
        throw GIVE_UP; // more elements than the shape: the full decoder's error
      }
      out = Arrays.copyOf(out, Math.max(out.length * 2, 64));
    }
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

  /**
   * A string of ASCII without escapes or control characters (a key, a name, an id); anything
   * else gives up, so that the full decoder checks the UTF-8 (a string decoded here as is would
   * turn bytes that are not UTF-8 into U+FFFD where the full decoder refuses the request).
   */
  protected final String plainString() {
    expect('"');
    int start = pos;
    while (true) {
      if (pos >= end) {
        throw GIVE_UP;
      }
      byte b = in[pos];
      if (b == '"') {
        break;
      }
      if (b == '\\' || b < 0x20) { // b < 0: not ASCII
        throw GIVE_UP;
      }
      pos++;
    }
    String s = new String(in, start, pos - start, StandardCharsets.ISO_8859_1);
    pos++;
    return s;
  }

  /** After a member: true at the object's '}', false after its ',' (and the whitespace after it). */
  protected final boolean endOfObject() {
    ws();
    byte b = next();
    if (b == '}') {
      return true;
    }
    if (b != ',') {
      throw GIVE_UP;
    }
    ws();
    return false;
  }

  /** After an element: true at the array's ']', false after its ',' (and the whitespace after it). */
  protected final boolean endOfArray() {
    ws();
    byte b = next();
    if (b == ']') {
      return true;
    }
    if (b != ',') {
      throw GIVE_UP;
    }
    ws();
    return false;
  }

  protected final void ws() {
    while (pos < end) {
      byte b = in[pos];
      if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
        return;
      }
      pos++;
    }
  }

  protected final int peek() {
    if (pos >= end) {
      throw GIVE_UP;
    }
    return in[pos];
  }

  protected final byte next() {
    if (pos >= end) {
      throw GIVE_UP;
    }
    return in[pos++];
  }

  protected final void expect(char c) {
    if (next() != c) {
      throw GIVE_UP;
    }
  }
}
