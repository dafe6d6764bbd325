package dev.shardserve.gateway.grpc;

import com.google.protobuf.UnsafeByteOperations;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.Outputs;
import dev.shardserve.protocol.Tensor;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * TensorFlow's {@code TensorProto} to and from {@link Tensor}. In: {@code tensor_content} (the
 * little-endian bytes become the tensor's data as they are) or the typed field of the dtype
 * ({@code float_val}, {@code int_val}, ..., {@code string_val}, {@code half_val} for DT_HALF and
 * DT_BFLOAT16); a typed field with one value fills the whole shape, as TensorFlow does. Any other
 * count is refused naming the input, its shape and the count (TensorFlow would pad with the last
 * value or truncate silently). Out: the typed field TF Serving answers with, or
 * {@code tensor_content} straight from the output buffer (no copy: outputs are never written
 * after they are made).
 */
final class TensorProtoCodec {
  private TensorProtoCodec() {}

  static Tensor decode(String name, TensorProto p) {
    DType dtype = p.getDtype() == DataType.UNRECOGNIZED ? null : DType.fromTfName(p.getDtype().name());
    if (dtype == null) {
      throw GrpcErrors.invalid("input '" + name + "' has dtype " + dtypeName(p)
          + ", which this server does not serve (it serves " + servedNames() + ")");
    }
    long[] shape = shape(name, p.getTensorShape());
    long n;
    try {
      n = Tensor.elementCount(shape);
    } catch (IllegalArgumentException e) {
      throw GrpcErrors.invalid("input '" + name + "': " + e.getMessage());
    }
    if (!p.getTensorContent().isEmpty()) {
      if (dtype.isString()) {
        throw GrpcErrors.invalid("input '" + name + "' is DT_STRING: give its values in string_val, not tensor_content");
      }
      int size = p.getTensorContent().size();
      if (size != n * dtype.byteSize()) {
        throw GrpcErrors.invalid("input '" + name + "': tensor_content has " + size + " bytes, but shape "
            + Arrays.toString(shape) + " of " + dtype.tfName() + " needs " + n * dtype.byteSize());
      }
      return Tensor.of(dtype, shape, p.getTensorContent().toByteArray());
    }
    int count = typedCount(p, dtype);
    if (count != n && !(count == 1 && n > 1)) {
      throw GrpcErrors.invalid("input '" + name + "': shape " + Arrays.toString(shape) + " holds " + n
          + " elements, but " + typedField(dtype) + " has " + count + " (give " + n + " values, or 1 to fill the shape,"
          + " or the bytes in tensor_content)");
    }
    int total = (int) n;
    if (dtype.isString()) {
      List<byte[]> values = new ArrayList<>(total);
      for (int i = 0; i < total; i++) {
        values.add(p.getStringVal(count == 1 ? 0 : i).toByteArray());
      }
      return Tensor.ofStrings(shape, values);
    }
    ByteBuffer out = ByteBuffer.allocate(total * dtype.byteSize()).order(Tensor.ORDER);
    for (int i = 0; i < total; i++) {
      int at = count == 1 ? 0 : i;
      switch (dtype) {
        case FLOAT32 -> out.putFloat(p.getFloatVal(at));
        case FLOAT64 -> out.putDouble(p.getDoubleVal(at));
        case INT32 -> out.putInt(p.getIntVal(at));
        case INT64 -> out.putLong(p.getInt64Val(at));
        case INT16 -> out.putShort((short) ranged(name, p.getIntVal(at), Short.MIN_VALUE, Short.MAX_VALUE, dtype));
        case INT8 -> out.put((byte) ranged(name, p.getIntVal(at), Byte.MIN_VALUE, Byte.MAX_VALUE, dtype));
        case UINT8 -> out.put((byte) ranged(name, p.getIntVal(at), 0, 255, dtype));
        case UINT16 -> out.putShort((short) ranged(name, p.getIntVal(at), 0, 65535, dtype));
        case UINT32 -> out.putInt(p.getUint32Val(at));
        case UINT64 -> out.putLong(p.getUint64Val(at));
        case BOOL -> out.put((byte) (p.getBoolVal(at) ? 1 : 0));
        case FLOAT16, BFLOAT16 -> out.putShort((short) p.getHalfVal(at));
        default -> throw new IllegalStateException("unexpected dtype " + dtype);
      }
    }
    return Tensor.of(dtype, shape, out.array());
  }

  private static long ranged(String name, int v, long min, long max, DType dtype) {
    if (v < min || v > max) {
      throw GrpcErrors.invalid("input '" + name + "': value " + v + " is out of range for " + dtype.tfName());
    }
    return v;
  }

  private static long[] shape(String name, TensorShapeProto s) {
    if (s.getUnknownRank()) {
      throw GrpcErrors.invalid("input '" + name + "' has unknown_rank set: give its shape");
    }
    long[] shape = new long[s.getDimCount()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = s.getDim(i).getSize();
      if (shape[i] < 0) {
        throw GrpcErrors.invalid("input '" + name + "' has dimension " + i + " of size " + shape[i]
            + ": a request tensor's dimensions are >= 0");
      }
    }
    return shape;
  }

  private static int typedCount(TensorProto p, DType dtype) {
    return switch (dtype) {
      case FLOAT32 -> p.getFloatValCount();
      case FLOAT64 -> p.getDoubleValCount();
      case INT8, INT16, INT32, UINT8, UINT16 -> p.getIntValCount();
      case INT64 -> p.getInt64ValCount();
      case UINT32 -> p.getUint32ValCount();
      case UINT64 -> p.getUint64ValCount();
      case BOOL -> p.getBoolValCount();
      case STRING -> p.getStringValCount();
      case FLOAT16, BFLOAT16 -> p.getHalfValCount();
    };
  }

  static String typedField(DType dtype) {
    return switch (dtype) {
      case FLOAT32 -> "float_val";
      case FLOAT64 -> "double_val";
      case INT8, INT16, INT32, UINT8, UINT16 -> "int_val";
      case INT64 -> "int64_val";
      case UINT32 -> "uint32_val";
      case UINT64 -> "uint64_val";
      case BOOL -> "bool_val";
      case STRING -> "string_val";
      case FLOAT16, BFLOAT16 -> "half_val";
    };
  }

  private static String dtypeName(TensorProto p) {
    return p.getDtype() == DataType.UNRECOGNIZED ? "number " + p.getDtypeValue() : p.getDtype().name();
  }

  private static String servedNames() {
    StringBuilder b = new StringBuilder();
    for (DType d : DType.values()) {
      b.append(b.length() == 0 ? "" : ", ").append(d.tfName());
    }
    return b.toString();
  }

  /** Output {@code i} of {@code outputs}: typed fields, or {@code tensor_content} when {@code content}. */
  static TensorProto encode(Outputs outputs, int i, boolean content) {
    DType dtype = outputs.dtype(i);
    TensorProto.Builder b = TensorProto.newBuilder().setDtype(DataType.valueOf(dtype.tfName()));
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (long d : outputs.shape(i)) {
      shape.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    b.setTensorShape(shape);
    Tensor backing = outputs.backing(i);
    int from = outputs.elementOffset(i);
    int n = outputs.elementCount(i);
    if (dtype.isString()) {
      List<byte[]> strings = backing.strings();
      for (int k = 0; k < n; k++) {
        b.addStringVal(UnsafeByteOperations.unsafeWrap(strings.get(from + k)));
      }
      return b.build();
    }
    int size = dtype.byteSize();
    if (content) {
      return b.setTensorContent(UnsafeByteOperations.unsafeWrap(backing.data(), from * size, n * size)).build();
    }
    ByteBuffer in = backing.buffer();
    for (int k = 0; k < n; k++) {
      int at = (from + k) * size;
      switch (dtype) {
        case FLOAT32 -> b.addFloatVal(in.getFloat(at));
        case FLOAT64 -> b.addDoubleVal(in.getDouble(at));
        case INT32 -> b.addIntVal(in.getInt(at));
        case INT16 -> b.addIntVal(in.getShort(at));
        case INT8 -> b.addIntVal(in.get(at));
        case UINT8 -> b.addIntVal(in.get(at) & 0xff);
        case UINT16 -> b.addIntVal(in.getShort(at) & 0xffff);
        case INT64 -> b.addInt64Val(in.getLong(at));
        case UINT32 -> b.addUint32Val(in.getInt(at));
        case UINT64 -> b.addUint64Val(in.getLong(at));
        case BOOL -> b.addBoolVal(in.get(at) != 0);
        case FLOAT16, BFLOAT16 -> b.addHalfVal(in.getShort(at) & 0xffff);
        default -> throw new IllegalStateException("unexpected dtype " + dtype);
      }
    }
    return b.build();
  }

  /** A whole tensor as a {@code TensorProto} in typed fields (tests, clients). */
  static TensorProto encode(String name, Tensor t, boolean content) {
    return encode(Outputs.of(java.util.Map.of(name, t)), 0, content);
  }
}
