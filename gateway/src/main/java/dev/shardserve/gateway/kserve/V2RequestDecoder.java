package dev.shardserve.gateway.kserve;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.Tensor;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decodes a v2 inference request's JSON object ({@code $inference_request}) with Jackson's
 * streaming parser: every form the protocol allows (nested or flat {@code data}, fields in any
 * order, escapes, every datatype), with a 400 naming the bad field or element. The common numeric
 * request takes {@link V2FastDecoder} first; this decoder is the authority for everything else
 * and for every error.
 */
final class V2RequestDecoder {
  /** Numbers by Jackson's fast parser; {@code NaN} and {@code Infinity} accepted as TF Serving's routes do. */
  static final JsonFactory JSON = JsonFactory.builder()
      .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
      .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
      .build();

  private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

  private V2RequestDecoder() {}

  static V2Request decode(byte[] json, int offset, int length) {
    if (length == 0) {
      throw V2Exception.invalid("the request body is empty: expected a JSON object ($inference_request)");
    }
    try (JsonParser p = JSON.createParser(json, offset, length)) {
      V2Request r = request(p);
      if (p.nextToken() != null) {
        throw V2Exception.invalid("JSON parse error: the request object is followed by more data at "
            + p.currentTokenLocation().getByteOffset());
      }
      return r;
    } catch (JsonProcessingException e) {
      throw V2Exception.invalid("JSON parse error: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw V2Exception.invalid("JSON parse error: " + e.getMessage());
    }
  }

  private static V2Request request(JsonParser p) throws IOException {
    if (p.nextToken() != JsonToken.START_OBJECT) {
      throw V2Exception.invalid("the request must be a JSON object ($inference_request), found " + describe(p));
    }
    String id = null;
    Map<String, Object> parameters = Map.of();
    List<V2Request.Input> inputs = null;
    List<V2RequestedOutput> outputs = List.of();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String key = p.currentName();
      p.nextToken();
      switch (key) {
        case "id" -> {
          if (p.currentToken() != JsonToken.VALUE_STRING) {
            throw V2Exception.invalid("'id' must be a string, was " + describe(p));
          }
          id = p.getText();
        }
        case "parameters" -> parameters = parameters(p, "the request's parameters");
        case "inputs" -> inputs = inputs(p);
        case "outputs" -> outputs = outputs(p);
        case "model_name", "model_version" -> {
          if (p.currentToken() != JsonToken.VALUE_STRING) {
            throw V2Exception.invalid("'" + key + "' must be a string, was " + describe(p));
          }
        }
        default -> throw V2Exception.invalid("unknown field '" + key + "' in the inference request; expected id, "
            + "parameters, inputs, outputs");
      }
    }
    if (inputs == null) {
      throw V2Exception.invalid("the inference request has no 'inputs'");
    }
    Object binaryOutput = parameters.get("binary_data_output");
    if (binaryOutput != null && !(binaryOutput instanceof Boolean)) {
      throw V2Exception.invalid("parameter 'binary_data_output' must be true or false, was " + binaryOutput);
    }
    return new V2Request(id, parameters, inputs, outputs);
  }

  /** A {@code $parameters} object: names to strings, numbers or booleans. */
  static Map<String, Object> parameters(JsonParser p, String what) throws IOException {
    if (p.currentToken() != JsonToken.START_OBJECT) {
      throw V2Exception.invalid(what + " must be an object, was " + describe(p));
    }
    Map<String, Object> out = new LinkedHashMap<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken t = p.nextToken();
      Object v = switch (t) {
        case VALUE_STRING -> p.getText();
        case VALUE_TRUE -> Boolean.TRUE;
        case VALUE_FALSE -> Boolean.FALSE;
        case VALUE_NUMBER_INT -> p.getNumberType() == JsonParser.NumberType.BIG_INTEGER ? p.getBigIntegerValue()
            : (Object) p.getLongValue();
        case VALUE_NUMBER_FLOAT -> p.getDoubleValue();
        default -> throw V2Exception.invalid("parameter '" + name + "' in " + what
            + " must be a string, a number or a boolean, was " + describe(p));
      };
      out.put(name, v);
    }
    return out;
  }

  private static List<V2Request.Input> inputs(JsonParser p) throws IOException {
    if (p.currentToken() != JsonToken.START_ARRAY) {
      throw V2Exception.invalid("'inputs' must be an array of input objects, was " + describe(p));
    }
    List<V2Request.Input> out = new ArrayList<>();
    while (p.nextToken() != JsonToken.END_ARRAY) {
      out.add(input(p, out.size()));
    }
    return out;
  }

  private static V2Request.Input input(JsonParser p, int index) throws IOException {
    if (p.currentToken() != JsonToken.START_OBJECT) {
      throw V2Exception.invalid("inputs[" + index + "] must be an object, was " + describe(p));
    }
    String name = null;
    long[] shape = null;
    String datatype = null;
    Map<String, Object> parameters = Map.of();
    List<Object> data = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String key = p.currentName();
      p.nextToken();
      String who = name != null ? "input '" + name + "'" : "inputs[" + index + "]";
      switch (key) {
        case "name" -> {
          if (p.currentToken() != JsonToken.VALUE_STRING) {
            throw V2Exception.invalid(who + ": 'name' must be a string, was " + describe(p));
          }
          name = p.getText();
        }
        case "shape" -> shape = shape(p, who);
        case "datatype" -> {
          if (p.currentToken() != JsonToken.VALUE_STRING) {
            throw V2Exception.invalid(who + ": 'datatype' must be a string, was " + describe(p));
          }
          datatype = p.getText();
        }
        case "parameters" -> parameters = parameters(p, who + "'s parameters");
        case "data" -> data = flatten(p, who);
        default -> throw V2Exception.invalid(who + " has an unknown field '" + key
            + "'; expected name, shape, datatype, parameters, data");
      }
    }
    String who = name != null ? "input '" + name + "'" : "inputs[" + index + "]";
    if (name == null) {
      throw V2Exception.invalid(who + " has no 'name'");
    }
    if (shape == null) {
      throw V2Exception.invalid(who + " has no 'shape'");
    }
    if (datatype == null) {
      throw V2Exception.invalid(who + " has no 'datatype'");
    }
    DType dtype = V2Datatypes.parse(name, datatype);
    long binarySize = binaryDataSize(name, parameters);
    if (binarySize >= 0) {
      if (data != null) {
        throw V2Exception.invalid(who + " has both 'data' and parameter 'binary_data_size': send its data in one "
            + "place");
      }
      return new V2Request.Input(name, dtype, shape, binarySize, null);
    }
    if (data == null) {
      throw V2Exception.invalid(who + " has no 'data' and no 'binary_data_size' parameter");
    }
    return new V2Request.Input(name, dtype, shape, -1, tensor(name, dtype, shape, data));
  }

  /** The input's {@code binary_data_size}, or -1; refuses the parameters this server does not serve. */
  static long binaryDataSize(String input, Map<String, Object> parameters) {
    for (String key : parameters.keySet()) {
      if (key.startsWith("shared_memory_")) {
        throw V2Exception.invalid("input '" + input + "' has parameter '" + key + "': the shared-memory "
            + "extensions are not supported by this server; send the data in the request");
      }
    }
    Object size = parameters.get("binary_data_size");
    if (size == null) {
      return -1;
    }
    if (!(size instanceof Long n) || n < 0) {
      throw V2Exception.invalid("input '" + input + "': parameter 'binary_data_size' must be a whole number of "
          + "bytes >= 0, was " + size);
    }
    return n;
  }

  private static long[] shape(JsonParser p, String who) throws IOException {
    if (p.currentToken() != JsonToken.START_ARRAY) {
      throw V2Exception.invalid(who + ": 'shape' must be an array of dimensions, was " + describe(p));
    }
    long[] dims = new long[8];
    int n = 0;
    while (p.nextToken() != JsonToken.END_ARRAY) {
      if (p.currentToken() != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
          || p.getLongValue() < 0) {
        throw V2Exception.invalid(who + ": 'shape' must hold whole numbers >= 0, found " + describe(p));
      }
      if (n == dims.length) {
        dims = Arrays.copyOf(dims, n * 2);
      }
      dims[n++] = p.getLongValue();
    }
    return Arrays.copyOf(dims, n);
  }

  /** The scalars of {@code data} in row-major order, whatever its nesting. */
  private static List<Object> flatten(JsonParser p, String who) throws IOException {
    List<Object> out = new ArrayList<>();
    if (p.currentToken() != JsonToken.START_ARRAY) {
      out.add(scalar(p, who));
      return out;
    }
    int depth = 1;
    while (depth > 0) {
      JsonToken t = p.nextToken();
      if (t == JsonToken.START_ARRAY) {
        depth++;
      } else if (t == JsonToken.END_ARRAY) {
        depth--;
      } else {
        out.add(scalar(p, who));
      }
    }
    return out;
  }

  private static Object scalar(JsonParser p, String who) throws IOException {
    return switch (p.currentToken()) {
      case VALUE_STRING -> p.getText();
      case VALUE_TRUE -> Boolean.TRUE;
      case VALUE_FALSE -> Boolean.FALSE;
      case VALUE_NUMBER_INT -> p.getNumberType() == JsonParser.NumberType.BIG_INTEGER ? p.getBigIntegerValue()
          : (Object) p.getLongValue();
      case VALUE_NUMBER_FLOAT -> p.getDoubleValue();
      default -> throw V2Exception.invalid(who + ": 'data' must hold numbers, strings or booleans (in arrays), "
          + "found " + describe(p));
    };
  }

  /** The tensor of {@code values} in {@code dtype}; a 400 naming the input and the element that does not fit. */
  static Tensor tensor(String input, DType dtype, long[] shape, List<Object> values) {
    long n = V2Tensors.elements(input, shape);
    if (values.size() != n) {
      throw V2Exception.invalid("input '" + input + "' has shape " + Arrays.toString(shape) + " (" + n
          + " elements) but its data holds " + values.size() + " elements");
    }
    if (dtype.isString()) {
      List<byte[]> strings = new ArrayList<>(values.size());
      for (int i = 0; i < values.size(); i++) {
        if (!(values.get(i) instanceof String s)) {
          throw element(input, dtype, i, values.get(i), "a string");
        }
        strings.add(s.getBytes(StandardCharsets.UTF_8));
      }
      return Tensor.ofStrings(shape, strings);
    }
    ByteBuffer out = ByteBuffer.allocate(values.size() * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < values.size(); i++) {
      Object v = values.get(i);
      switch (dtype) {
        case BOOL -> {
          if (!(v instanceof Boolean b)) {
            throw element(input, dtype, i, v, "true or false");
          }
          out.put((byte) (b ? 1 : 0));
        }
        case FLOAT32 -> out.putFloat((float) real(input, dtype, i, v));
        case FLOAT64 -> out.putDouble(real(input, dtype, i, v));
        case FLOAT16 -> out.putShort(HalfFloats.toFloat16((float) real(input, dtype, i, v)));
        case BFLOAT16 -> out.putShort(HalfFloats.toBfloat16((float) real(input, dtype, i, v)));
        case UINT64 -> out.putLong(unsigned64(input, i, v));
        default -> {
          long l = integer(input, dtype, i, v);
          switch (dtype.byteSize()) {
            case 1 -> out.put((byte) l);
            case 2 -> out.putShort((short) l);
            case 4 -> out.putInt((int) l);
            default -> out.putLong(l);
          }
        }
      }
    }
    return Tensor.of(dtype, shape, out.array());
  }

  private static double real(String input, DType dtype, int i, Object v) {
    if (v instanceof Double d) {
      return d;
    }
    if (v instanceof Long l) {
      return l;
    }
    if (v instanceof BigInteger b) {
      return b.doubleValue();
    }
    throw element(input, dtype, i, v, "a number");
  }

  private static long integer(String input, DType dtype, int i, Object v) {
    long l;
    if (v instanceof Long x) {
      l = x;
    } else if (v instanceof Double d && d == Math.rint(d) && Math.abs(d) < 0x1p63) {
      l = (long) (double) d;
    } else {
      throw element(input, dtype, i, v, "an integer");
    }
    boolean fits = switch (dtype) {
      case INT8 -> l >= Byte.MIN_VALUE && l <= Byte.MAX_VALUE;
      case INT16 -> l >= Short.MIN_VALUE && l <= Short.MAX_VALUE;
      case INT32 -> l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE;
      case UINT8 -> l >= 0 && l <= 0xff;
      case UINT16 -> l >= 0 && l <= 0xffff;
      case UINT32 -> l >= 0 && l <= 0xffffffffL;
      default -> true;
    };
    if (!fits) {
      throw element(input, dtype, i, v, "an integer in the range of " + dtype.kserveName());
    }
    return l;
  }

  private static long unsigned64(String input, int i, Object v) {
    if (v instanceof Long l && l >= 0) {
      return l;
    }
    if (v instanceof BigInteger b && b.signum() >= 0 && b.compareTo(UINT64_MAX) <= 0) {
      return b.longValue();
    }
    throw element(input, DType.UINT64, i, v, "an integer from 0 to " + UINT64_MAX);
  }

  private static V2Exception element(String input, DType dtype, int i, Object v, String expected) {
    String shown = v instanceof String s ? "\"" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "\""
        : String.valueOf(v);
    return V2Exception.invalid("input '" + input + "' is " + dtype.kserveName() + " but data element " + i + " is "
        + shown + ", not " + expected);
  }

  private static List<V2RequestedOutput> outputs(JsonParser p) throws IOException {
    if (p.currentToken() != JsonToken.START_ARRAY) {
      throw V2Exception.invalid("'outputs' must be an array of output objects, was " + describe(p));
    }
    List<V2RequestedOutput> out = new ArrayList<>();
    while (p.nextToken() != JsonToken.END_ARRAY) {
      int index = out.size();
      if (p.currentToken() != JsonToken.START_OBJECT) {
        throw V2Exception.invalid("outputs[" + index + "] must be an object, was " + describe(p));
      }
      String name = null;
      Map<String, Object> parameters = Map.of();
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String key = p.currentName();
        p.nextToken();
        switch (key) {
          case "name" -> {
            if (p.currentToken() != JsonToken.VALUE_STRING) {
              throw V2Exception.invalid("outputs[" + index + "]: 'name' must be a string, was " + describe(p));
            }
            name = p.getText();
          }
          case "parameters" -> parameters = parameters(p, "outputs[" + index + "]'s parameters");
          default -> throw V2Exception.invalid("outputs[" + index + "] has an unknown field '" + key
              + "'; expected name, parameters");
        }
      }
      if (name == null) {
        throw V2Exception.invalid("outputs[" + index + "] has no 'name'");
      }
      out.add(requestedOutput(name, parameters));
    }
    return out;
  }

  /** A requested output from its parameters; refuses classification and shared memory, which this server does not do. */
  static V2RequestedOutput requestedOutput(String name, Map<String, Object> parameters) {
    for (String key : parameters.keySet()) {
      if (key.startsWith("shared_memory_") || key.equals("classification")) {
        throw V2Exception.invalid("output '" + name + "' has parameter '" + key + "', which this server does not "
            + "support (no shared-memory or classification extension)");
      }
    }
    Object binary = parameters.get("binary_data");
    if (binary != null && !(binary instanceof Boolean)) {
      throw V2Exception.invalid("output '" + name + "': parameter 'binary_data' must be true or false, was "
          + binary);
    }
    return new V2RequestedOutput(name, (Boolean) binary);
  }

  static String describe(JsonParser p) {
    JsonToken t = p.currentToken();
    if (t == null) {
      return "the end of the JSON";
    }
    return switch (t) {
      case START_OBJECT -> "an object";
      case START_ARRAY -> "an array";
      case VALUE_STRING -> "a string";
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
      case VALUE_TRUE, VALUE_FALSE -> "a boolean";
      case VALUE_NULL -> "null";
      default -> t.name();
    };
  }
}
