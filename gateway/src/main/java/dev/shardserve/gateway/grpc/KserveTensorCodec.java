package dev.shardserve.gateway.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.shardserve.gateway.proto.kserve.InferTensorContents;
import dev.shardserve.gateway.proto.kserve.ModelInferRequest.InferInputTensor;
import dev.shardserve.gateway.proto.kserve.ModelInferResponse.InferOutputTensor;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.Outputs;
import dev.shardserve.protocol.Tensor;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The Open Inference Protocol's gRPC tensors ({@code InferInputTensor}, {@code InferOutputTensor})
 * to and from {@link Tensor}, with datatype names {@code FP32}, {@code INT64}, {@code BYTES}, ...
 * In: {@code raw_input_contents} (little-endian, row-major; for BYTES each element is a 4-byte
 * little-endian length and its bytes) or the typed {@code contents}, whose count must match the
 * shape. FP16 and BF16 travel raw only. Out: raw contents straight from the output buffer, or
 * typed contents. (The KServe v2 REST codec of the same datatypes lives in the kserve package.)
 */
final class KserveTensorCodec {
  private KserveTensorCodec() {}

  static DType dtype(String name, String datatype) {
    DType d = DType.fromKserveName(datatype);
    if (d == null) {
      StringBuilder served = new StringBuilder();
      for (DType t : DType.values()) {
        served.append(served.length() == 0 ? "" : ", ").append(t.kserveName());
      }
      throw GrpcErrors.invalid("input '" + name + "' has datatype '" + datatype + "', expected one of " + served);
    }
    return d;
  }

  static long[] shape(InferInputTensor t) {
    long[] shape = new long[t.getShapeCount()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = t.getShape(i);
      if (shape[i] < 0) {
        throw GrpcErrors.invalid("input '" + t.getName() + "' has shape " + t.getShapeList()
            + ": dimensions must be >= 0");
      }
    }
    return shape;
  }

  private static int count(String name, long[] shape) {
    try {
      return (int) Tensor.elementCount(shape);
    } catch (IllegalArgumentException e) {
      throw GrpcErrors.invalid("input '" + name + "': " + e.getMessage());
    }
  }

  /** An input given in {@code raw_input_contents}. */
  static Tensor decodeRaw(InferInputTensor t, ByteString raw) {
    String name = t.getName();
    DType dtype = dtype(name, t.getDatatype());
    long[] shape = shape(t);
    int n = count(name, shape);
    if (dtype.isString()) {
      return Tensor.ofStrings(shape, lengthPrefixed(name, raw, n));
    }
    if (raw.size() != (long) n * dtype.byteSize()) {
      throw GrpcErrors.invalid("input '" + name + "': raw_input_contents has " + raw.size() + " bytes, but shape "
          + Arrays.toString(shape) + " of " + dtype.kserveName() + " needs " + (long) n * dtype.byteSize());
    }
    return Tensor.of(dtype, shape, raw.toByteArray());
  }

  private static List<byte[]> lengthPrefixed(String name, ByteString raw, int n) {
    ByteBuffer in = raw.asReadOnlyByteBuffer().order(Tensor.ORDER);
    List<byte[]> out = new ArrayList<>(n);
    while (in.hasRemaining()) {
      if (in.remaining() < 4) {
        throw GrpcErrors.invalid("input '" + name + "': BYTES raw contents end inside an element's 4-byte length");
      }
      int len = in.getInt();
      if (len < 0 || len > in.remaining()) {
        throw GrpcErrors.invalid("input '" + name + "': BYTES element " + out.size() + " declares " + len
            + " bytes, but " + in.remaining() + " remain");
      }
      byte[] b = new byte[len];
      in.get(b);
      out.add(b);
    }
    if (out.size() != n) {
      throw GrpcErrors.invalid("input '" + name + "': BYTES raw contents hold " + out.size() + " elements, shape needs "
          + n);
    }
    return out;
  }

  /** An input given in typed {@code contents}. */
  static Tensor decodeTyped(InferInputTensor t) {
    String name = t.getName();
    DType dtype = dtype(name, t.getDatatype());
    long[] shape = shape(t);
    int n = count(name, shape);
    InferTensorContents c = t.getContents();
    int given = switch (dtype) {
      case BOOL -> c.getBoolContentsCount();
      case INT8, INT16, INT32 -> c.getIntContentsCount();
      case INT64 -> c.getInt64ContentsCount();
      case UINT8, UINT16, UINT32 -> c.getUintContentsCount();
      case UINT64 -> c.getUint64ContentsCount();
      case FLOAT32 -> c.getFp32ContentsCount();
      case FLOAT64 -> c.getFp64ContentsCount();
      case STRING -> c.getBytesContentsCount();
      case FLOAT16, BFLOAT16 -> throw GrpcErrors.invalid("input '" + name + "' is " + dtype.kserveName()
          + ": give it in raw_input_contents (the typed contents have no 16-bit float field)");
    };
    if (given != n) {
      throw GrpcErrors.invalid("input '" + name + "': shape " + Arrays.toString(shape) + " holds " + n
          + " elements, but its contents have " + given + " " + dtype.kserveName() + " values");
    }
    if (dtype.isString()) {
      List<byte[]> values = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        values.add(c.getBytesContents(i).toByteArray());
      }
      return Tensor.ofStrings(shape, values);
    }
    ByteBuffer out = ByteBuffer.allocate(n * dtype.byteSize()).order(Tensor.ORDER);
    for (int i = 0; i < n; i++) {
      switch (dtype) {
        case BOOL -> out.put((byte) (c.getBoolContents(i) ? 1 : 0));
        case INT8 -> out.put((byte) ranged(name, c.getIntContents(i), Byte.MIN_VALUE, Byte.MAX_VALUE, dtype));
        case INT16 -> out.putShort((short) ranged(name, c.getIntContents(i), Short.MIN_VALUE, Short.MAX_VALUE, dtype));
        case INT32 -> out.putInt(c.getIntContents(i));
        case INT64 -> out.putLong(c.getInt64Contents(i));
        case UINT8 -> out.put((byte) ranged(name, Integer.toUnsignedLong(c.getUintContents(i)), 0, 255, dtype));
        case UINT16 -> out.putShort((short) ranged(name, Integer.toUnsignedLong(c.getUintContents(i)), 0, 65535,
            dtype));
        case UINT32 -> out.putInt(c.getUintContents(i));
        case UINT64 -> out.putLong(c.getUint64Contents(i));
        case FLOAT32 -> out.putFloat(c.getFp32Contents(i));
        case FLOAT64 -> out.putDouble(c.getFp64Contents(i));
        default -> throw new IllegalStateException("unexpected dtype " + dtype);
      }
    }
    return Tensor.of(dtype, shape, out.array());
  }

  private static long ranged(String name, long v, long min, long max, DType dtype) {
    if (v < min || v > max) {
      throw GrpcErrors.invalid("input '" + name + "': value " + v + " is out of range for " + dtype.kserveName());
    }
    return v;
  }

  /** Output {@code i}'s name, datatype and shape; typed contents unless {@code raw}. */
  static InferOutputTensor header(Outputs outputs, int i, boolean raw) {
    InferOutputTensor.Builder b = InferOutputTensor.newBuilder()
        .setName(outputs.name(i))
        .setDatatype(outputs.dtype(i).kserveName());
    for (long d : outputs.shape(i)) {
      b.addShape(d);
    }
    if (!raw) {
      b.setContents(typedContents(outputs, i));
    }
    return b.build();
  }

  /** Output {@code i} as raw contents: a view of the output buffer (BYTES: length-prefixed). */
  static ByteString raw(Outputs outputs, int i) {
    Tensor backing = outputs.backing(i);
    int from = outputs.elementOffset(i);
    int n = outputs.elementCount(i);
    if (!backing.dtype().isString()) {
      int size = backing.dtype().byteSize();
      return UnsafeByteOperations.unsafeWrap(backing.data(), from * size, n * size);
    }
    List<byte[]> strings = backing.strings();
    int total = 0;
    for (int k = 0; k < n; k++) {
      total += 4 + strings.get(from + k).length;
    }
    ByteBuffer out = ByteBuffer.allocate(total).order(Tensor.ORDER);
    for (int k = 0; k < n; k++) {
      byte[] s = strings.get(from + k);
      out.putInt(s.length).put(s);
    }
    return UnsafeByteOperations.unsafeWrap(out.array());
  }

  private static InferTensorContents typedContents(Outputs outputs, int i) {
    DType dtype = outputs.dtype(i);
    Tensor backing = outputs.backing(i);
    int from = outputs.elementOffset(i);
    int n = outputs.elementCount(i);
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    if (dtype.isString()) {
      for (int k = 0; k < n; k++) {
        c.addBytesContents(UnsafeByteOperations.unsafeWrap(backing.strings().get(from + k)));
      }
      return c.build();
    }
    if (dtype == DType.FLOAT16 || dtype == DType.BFLOAT16) {
      throw GrpcErrors.invalid("output '" + outputs.name(i) + "' is " + dtype.kserveName()
          + ", which only raw contents carry: send the inputs in raw_input_contents to get raw outputs");
    }
    int size = dtype.byteSize();
    ByteBuffer in = backing.buffer();
    for (int k = 0; k < n; k++) {
      int at = (from + k) * size;
      switch (dtype) {
        case BOOL -> c.addBoolContents(in.get(at) != 0);
        case INT8 -> c.addIntContents(in.get(at));
        case INT16 -> c.addIntContents(in.getShort(at));
        case INT32 -> c.addIntContents(in.getInt(at));
        case INT64 -> c.addInt64Contents(in.getLong(at));
        case UINT8 -> c.addUintContents(in.get(at) & 0xff);
        case UINT16 -> c.addUintContents(in.getShort(at) & 0xffff);
        case UINT32 -> c.addUintContents(in.getInt(at));
        case UINT64 -> c.addUint64Contents(in.getLong(at));
        case FLOAT32 -> c.addFp32Contents(in.getFloat(at));
        case FLOAT64 -> c.addFp64Contents(in.getDouble(at));
        default -> throw new IllegalStateException("unexpected dtype " + dtype);
      }
    }
    return c.build();
  }
}
