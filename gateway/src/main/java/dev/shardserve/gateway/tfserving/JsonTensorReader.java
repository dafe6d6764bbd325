package dev.shardserve.gateway.tfserving;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * Reads one tensor from JSON as TF Serving writes them: nested lists of numbers, booleans,
 * strings or {@code {"b64": "..."}} values, straight into primitive arrays (no JSON tree).
 * Values may be added in several parts (one per instance, {@link #addValue} with depth 1), and
 * every part must have the same shape: ragged lists are refused naming the input.
 *
 * <p>JSON numbers carry no type, so the tensor is INT64 when every number is an integer and
 * FLOAT64 otherwise; the node converts to the signature's dtype and refuses lossy conversions.
 */
final class JsonTensorReader {
  private enum Kind { NUMBER, BOOL, STRING }

  private final String input;
  private long[] dims = new long[8];
  private int rank = -1;
  private Kind kind;
  private double[] doubles = new double[16];
  private long[] longs = new long[16];
  private boolean allIntegral = true;
  private boolean[] bools;
  private List<byte[]> strings;
  private int count;

  JsonTensorReader(String input) {
    this.input = input;
  }

  /** Reads the value at the parser's current token, which sits at {@code depth} of the tensor. */
  void addValue(JsonParser p, int depth) throws IOException {
    JsonToken t = p.currentToken();
    if (t == JsonToken.START_ARRAY) {
      if (depth + 1 >= dims.length) {
        throw new BadRequest("input '" + displayName() + "' is nested too deeply (more than "
            + (dims.length - 1) + " dimensions)");
      }
      long n = 0;
      while (p.nextToken() != JsonToken.END_ARRAY) {
        addValue(p, depth + 1);
        n++;
      }
      if (n == 0) {
        leafAt(depth + 1);
      }
      dimension(depth, n);
    } else {
      leafAt(depth);
      addLeaf(p, t);
    }
  }

  private void dimension(int depth, long n) {
    if (dims[depth] == -1) {
      dims[depth] = n;
    } else if (dims[depth] != n) {
      throw ragged();
    }
  }

  private void leafAt(int depth) {
    if (rank == -1) {
      rank = depth;
      Arrays.fill(dims, 0, rank, -1);
    } else if (rank != depth) {
      throw ragged();
    }
  }

  private BadRequest ragged() {
    return new BadRequest("input '" + displayName() + "' is ragged: every list at the same depth must have the "
        + "same length, and every value the same shape");
  }

  private String displayName() {
    return input.isEmpty() ? "instances" : input;
  }

  private void addLeaf(JsonParser p, JsonToken t) throws IOException {
    switch (t) {
      case VALUE_NUMBER_INT -> {
        long v;
        try {
          v = p.getLongValue();
        } catch (InputCoercionException e) {
          throw new BadRequest("input '" + displayName() + "': integer " + p.getText() + " is out of range");
        }
        kind(Kind.NUMBER);
        ensureNumbers();
        longs[count] = v;
        doubles[count++] = v;
      }
      case VALUE_NUMBER_FLOAT -> {
        kind(Kind.NUMBER);
        ensureNumbers();
        allIntegral = false;
        doubles[count++] = p.getDoubleValue();
      }
      case VALUE_TRUE, VALUE_FALSE -> {
        kind(Kind.BOOL);
        if (bools == null) {
          bools = new boolean[16];
        } else if (count == bools.length) {
          bools = Arrays.copyOf(bools, count * 2);
        }
        bools[count++] = t == JsonToken.VALUE_TRUE;
      }
      case VALUE_STRING -> addString(p.getText().getBytes(StandardCharsets.UTF_8));
      case START_OBJECT -> addString(readB64(p, displayName()));
      default -> throw new BadRequest("input '" + displayName() + "' has an unsupported JSON value: " + t.asString());
    }
  }

  private void addString(byte[] value) {
    kind(Kind.STRING);
    if (strings == null) {
      strings = new ArrayList<>();
    }
    strings.add(value);
    count++;
  }

  /** Reads a {@code {"b64": ...}} value whose START_OBJECT and "b64" field name were already read. */
  void addB64Rest(JsonParser p, int depth) throws IOException {
    leafAt(depth);
    addString(readB64Rest(p, displayName()));
  }

  /** Reads {@code {"b64": "<base64>"}} at the current START_OBJECT. */
  static byte[] readB64(JsonParser p, String input) throws IOException {
    if (p.nextToken() != JsonToken.FIELD_NAME || !"b64".equals(p.currentName())) {
      throw new BadRequest("input '" + input + "': an object value must be {\"b64\": \"<base64 string>\"}");
    }
    return readB64Rest(p, input);
  }

  /** Reads the rest of a b64 object; the current token is its "b64" field name. */
  static byte[] readB64Rest(JsonParser p, String input) throws IOException {
    if (p.nextToken() != JsonToken.VALUE_STRING) {
      throw new BadRequest("input '" + input + "': the \"b64\" value must be a base64 string");
    }
    byte[] bytes;
    try {
      bytes = Base64.getDecoder().decode(p.getText());
    } catch (IllegalArgumentException e) {
      throw new BadRequest("input '" + input + "': invalid base64 in \"b64\" value: " + e.getMessage());
    }
    if (p.nextToken() != JsonToken.END_OBJECT) {
      throw new BadRequest("input '" + input + "': a {\"b64\": ...} object must have no other keys");
    }
    return bytes;
  }

  private void kind(Kind k) {
    if (kind == null) {
      kind = k;
    } else if (kind != k) {
      throw new BadRequest("input '" + displayName() + "' mixes " + kind.name().toLowerCase() + " and "
          + k.name().toLowerCase() + " values");
    }
  }

  private void ensureNumbers() {
    if (count == doubles.length) {
      doubles = Arrays.copyOf(doubles, count * 2);
      longs = Arrays.copyOf(longs, count * 2);
    }
  }

  /** The tensor read so far; {@code batch} is the first dimension when values were added per instance. */
  Tensor finish(long batch) {
    if (rank == -1) {
      throw new BadRequest("input '" + displayName() + "' is empty");
    }
    long[] shape = Arrays.copyOf(dims, rank);
    if (batch >= 0) {
      shape[0] = batch;
    }
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 0) {
        shape[i] = 0;
      }
    }
    if (kind == null || kind == Kind.NUMBER) {
      if (allIntegral && kind != null) {
        ByteBuffer b = ByteBuffer.allocate(count * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(longs, 0, count);
        return Tensor.of(DType.INT64, shape, b.array());
      }
      ByteBuffer b = ByteBuffer.allocate(count * 8).order(ByteOrder.LITTLE_ENDIAN);
      b.asDoubleBuffer().put(doubles, 0, count);
      return Tensor.of(DType.FLOAT64, shape, b.array());
    }
    if (kind == Kind.BOOL) {
      return Tensor.ofBools(shape, Arrays.copyOf(bools, count));
    }
    return Tensor.ofStrings(shape, strings);
  }
}
