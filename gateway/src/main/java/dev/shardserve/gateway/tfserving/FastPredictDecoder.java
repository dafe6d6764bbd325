package dev.shardserve.gateway.tfserving;

import dev.shardserve.gateway.json.JsonScanner;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.ModelProtocol;
import dev.shardserve.protocol.Tensor;
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
 * Anything else (strings, {@code b64}, booleans, objects per instance, {@code NaN}, escapes or
 * bytes that are not ASCII in a key or a signature name, ragged or empty lists, a number this
 * path cannot convert exactly as the full decoder would, a dtype it does not write, unknown keys)
 * makes it return null, and the full decoder ({@link PredictRequest}) reads the body with its own
 * errors: the two agree on every tensor this one returns (a property test checks it).
 *
 * <p>Numbers are parsed as the full decoder's Jackson parser does, to the nearest double, then
 * narrowed as the node's conversion would ({@code (float) d}): the scan of numbers and strings is
 * {@link JsonScanner}'s, shared with the v2 fast decoder. Jackson's tokenizer cost ~37 µs for a
 * 784-float row; this scan costs a fraction of it (JMH in {@code perf/}, numbers in the README).
 */
final class FastPredictDecoder extends JsonScanner {
  private static final int MAX_RANK = 7;

  // the shape of the tensor being read, learnt as it is read (its bytes grow in JsonScanner.out)
  private final long[] dims = new long[MAX_RANK + 1];
  private int rank;

  private FastPredictDecoder(byte[] in) {
    super(in, 0, in.length, true);
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
      if (endOfObject()) {
        break;
      }
    }
    ws();
    if (pos != end || row == null) {
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
      if (endOfObject()) {
        return out;
      }
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
        if (endOfArray()) {
          break;
        }
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
}
