package dev.shardserve.gateway.kserve;

import dev.shardserve.gateway.json.JsonScanner;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The fast path for the common v2 request: one pass over the JSON bytes with no token objects,
 * numeric {@code data} ({@code FP32}, {@code FP64}, {@code INT32}, {@code INT64}, flat or nested)
 * written straight into the tensor's little-endian bytes, as the TF Serving routes' fast decoder
 * does for predict bodies. It takes what Triton's and KServe's clients send: {@code id},
 * {@code parameters} with strings, integers and booleans, inputs with {@code name},
 * {@code shape}, {@code datatype}, then {@code data} or {@code parameters.binary_data_size},
 * outputs with {@code name} and {@code parameters.binary_data}. Anything else (escapes, other
 * datatypes in JSON, {@code data} before {@code shape}, a count that does not match, duplicate
 * keys, an error of any kind) returns null, and {@link V2RequestDecoder} reads the request with
 * its own errors; the two agree on every request this one decodes (a property test checks it).
 *
 * <p>Numbers are parsed to the nearest double and narrowed with {@code (float) d}, which is what
 * the full decoder's Jackson parser gives; strings are plain ASCII (anything else gives up, so that
 * the full decoder checks the UTF-8): the scan is {@link JsonScanner}'s, shared with the TF
 * Serving fast decoder. The data's bytes are sized from its {@code shape}, so a number more than
 * the shape holds gives up.
 */
final class V2FastDecoder extends JsonScanner {
  private static final int MAX_DEPTH = 16;

  private V2FastDecoder(byte[] in, int offset, int length) {
    super(in, offset, length, false);
  }

  /** The request in {@code in[offset, offset + length)}, or null when it is not of the simple form. */
  static V2Request decode(byte[] in, int offset, int length) {
    try {
      return new V2FastDecoder(in, offset, length).request();
    } catch (GiveUp | ArrayIndexOutOfBoundsException | IllegalArgumentException | ArithmeticException e) {
      return null;
    }
  }

  private V2Request request() {
    String id = null;
    Map<String, Object> parameters = Map.of();
    List<V2Request.Input> inputs = null;
    List<V2RequestedOutput> outputs = List.of();
    Set<String> keys = new HashSet<>();
    ws();
    expect('{');
    ws();
    if (peek() == '}') {
      throw GIVE_UP;
    }
    while (true) {
      String key = plainString();
      if (!keys.add(key)) {
        throw GIVE_UP;
      }
      ws();
      expect(':');
      ws();
      switch (key) {
        case "id" -> id = plainString();
        case "model_name", "model_version" -> plainString();
        case "parameters" -> parameters = parameters();
        case "inputs" -> inputs = inputs();
        case "outputs" -> outputs = outputs();
        default -> throw GIVE_UP;
      }
      if (endOfObject()) {
        break;
      }
    }
    ws();
    if (pos != end || inputs == null) {
      throw GIVE_UP;
    }
    Object binaryOutput = parameters.get("binary_data_output");
    if (binaryOutput != null && !(binaryOutput instanceof Boolean)) {
      throw GIVE_UP;
    }
    return new V2Request(id, parameters, inputs, outputs);
  }

  /** A flat object of strings, integers and booleans. */
  private Map<String, Object> parameters() {
    expect('{');
    ws();
    Map<String, Object> out = new LinkedHashMap<>();
    if (peek() == '}') {
      pos++;
      return out;
    }
    while (true) {
      String key = plainString();
      ws();
      expect(':');
      ws();
      Object value;
      int c = peek();
      if (c == '"') {
        value = plainString();
      } else if (c == 't') {
        literal("true");
        value = Boolean.TRUE;
      } else if (c == 'f') {
        literal("false");
        value = Boolean.FALSE;
      } else {
        value = integer();
      }
      if (out.put(key, value) != null) {
        throw GIVE_UP;
      }
      if (endOfObject()) {
        return out;
      }
    }
  }

  private List<V2Request.Input> inputs() {
    expect('[');
    ws();
    List<V2Request.Input> out = new ArrayList<>();
    if (peek() == ']') {
      pos++;
      return out;
    }
    while (true) {
      out.add(input());
      if (endOfArray()) {
        return out;
      }
    }
  }

  private V2Request.Input input() {
    expect('{');
    ws();
    String name = null;
    long[] shape = null;
    DType datatype = null;
    long binarySize = -1;
    Tensor data = null;
    Set<String> keys = new HashSet<>();
    while (true) {
      String key = plainString();
      if (!keys.add(key)) {
        throw GIVE_UP;
      }
      ws();
      expect(':');
      ws();
      switch (key) {
        case "name" -> name = plainString();
        case "shape" -> shape = shape();
        case "datatype" -> {
          datatype = DType.fromKserveName(plainString());
          if (datatype == null) {
            throw GIVE_UP;
          }
        }
        case "parameters" -> {
          Map<String, Object> p = parameters();
          if (p.size() != 1 || !(p.get("binary_data_size") instanceof Long n) || n < 0) {
            throw GIVE_UP;
          }
          binarySize = n;
        }
        case "data" -> {
          if (shape == null || datatype == null) {
            throw GIVE_UP;
          }
          data = data(datatype, shape);
        }
        default -> throw GIVE_UP;
      }
      if (endOfObject()) {
        break;
      }
    }
    if (name == null || shape == null || datatype == null || (binarySize >= 0) == (data != null)) {
      throw GIVE_UP;
    }
    return new V2Request.Input(name, datatype, shape, binarySize, data);
  }

  private long[] shape() {
    expect('[');
    ws();
    long[] dims = new long[8];
    int n = 0;
    if (peek() == ']') {
      pos++;
      return new long[0];
    }
    while (true) {
      long d = integer();
      if (d < 0) {
        throw GIVE_UP;
      }
      if (n == dims.length) {
        dims = Arrays.copyOf(dims, n * 2);
      }
      dims[n++] = d;
      if (endOfArray()) {
        return Arrays.copyOf(dims, n);
      }
    }
  }

  private List<V2RequestedOutput> outputs() {
    expect('[');
    ws();
    List<V2RequestedOutput> out = new ArrayList<>();
    if (peek() == ']') {
      pos++;
      return out;
    }
    while (true) {
      expect('{');
      ws();
      String name = null;
      Boolean binary = null;
      Set<String> keys = new HashSet<>();
      while (true) {
        String key = plainString();
        if (!keys.add(key)) {
          throw GIVE_UP;
        }
        ws();
        expect(':');
        ws();
        switch (key) {
          case "name" -> name = plainString();
          case "parameters" -> {
            Map<String, Object> p = parameters();
            if (p.size() != 1 || !(p.get("binary_data") instanceof Boolean b)) {
              throw GIVE_UP;
            }
            binary = b;
          }
          default -> throw GIVE_UP;
        }
        if (endOfObject()) {
          break;
        }
      }
      if (name == null) {
        throw GIVE_UP;
      }
      out.add(new V2RequestedOutput(name, binary));
      if (endOfArray()) {
        return out;
      }
    }
  }

  /** Numeric data of {@code shape}, flat or nested, straight into little-endian bytes. */
  private Tensor data(DType t, long[] shape) {
    int size = switch (t) {
      case FLOAT32, INT32 -> 4;
      case FLOAT64, INT64 -> 8;
      default -> throw GIVE_UP;
    };
    long n = Tensor.elementCount(shape);
    if (n > end - pos) {
      throw GIVE_UP; // more elements than bytes left: the full decoder reports the count, allocating nothing
    }
    dtype = t;
    out = new byte[Math.toIntExact(n * size)];
    count = 0;
    if (peek() != '[') {
      throw GIVE_UP;
    }
    value(0);
    if (count != n) {
      throw GIVE_UP;
    }
    return Tensor.of(t, shape, out);
  }

  private void value(int depth) {
    if (peek() != '[') {
      number();
      return;
    }
    if (depth >= MAX_DEPTH) {
      throw GIVE_UP;
    }
    pos++;
    ws();
    if (peek() == ']') {
      pos++;
      return;
    }
    while (true) {
      value(depth + 1);
      if (endOfArray()) {
        return;
      }
    }
  }

  /** A JSON integer of at most 18 digits. */
  private long integer() {
    boolean negative = false;
    if (peek() == '-') {
      negative = true;
      pos++;
    }
    int c = peek();
    long v = 0;
    int digits = 0;
    if (c == '0') {
      pos++;
    } else if (c >= '1' && c <= '9') {
      while (pos < end && (c = in[pos]) >= '0' && c <= '9') {
        v = v * 10 + (c - '0');
        pos++;
        if (++digits > 18) {
          throw GIVE_UP;
        }
      }
    } else {
      throw GIVE_UP;
    }
    if (pos < end && (in[pos] == '.' || in[pos] == 'e' || in[pos] == 'E' || (in[pos] >= '0' && in[pos] <= '9'))) {
      throw GIVE_UP;
    }
    return negative ? -v : v;
  }

  private void literal(String word) {
    for (int i = 0; i < word.length(); i++) {
      if (next() != word.charAt(i)) {
        throw GIVE_UP;
      }
    }
  }
}
