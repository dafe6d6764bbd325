package dev.shardserve.node.runtime;

import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Converts a request tensor to the dtype a signature input declares. JSON carries numbers
 * without a type, so the gateway sends them as INT64 (all integral) or FLOAT64; this class turns
 * them into the declared type, refusing what would change a value (a fraction for an integer
 * input, an integer out of range) with a message naming the input and the value.
 */
final class InputCoercion {
  private InputCoercion() {}

  static Tensor coerce(String input, Tensor t, DType expected) {
    if (t.dtype() == expected) {
      return t;
    }
    boolean numericSource = t.dtype() == DType.INT64 || t.dtype() == DType.FLOAT64 || t.dtype() == DType.INT32
        || t.dtype() == DType.FLOAT32;
    if (!numericSource || expected == DType.BOOL || expected == DType.STRING) {
      throw mismatch(input, t.dtype(), expected);
    }
    int n = t.numElements();
    ByteBuffer in = t.buffer();
    ByteBuffer out = ByteBuffer.allocate(n * expected.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    boolean floatingSource = t.dtype().isFloating();
    for (int i = 0; i < n; i++) {
      double d;
      long l;
      switch (t.dtype()) {
        case INT64 -> {
          l = in.getLong(i * 8);
          d = l;
        }
        case INT32 -> {
          l = in.getInt(i * 4);
          d = l;
        }
        case FLOAT32 -> {
          d = in.getFloat(i * 4);
          l = (long) d;
        }
        default -> {
          d = in.getDouble(i * 8);
          l = (long) d;
        }
      }
      if (expected.isFloating()) {
        switch (expected) {
          case FLOAT32 -> out.putFloat((float) d);
          case FLOAT64 -> out.putDouble(d);
          case FLOAT16 -> out.putShort(HalfPrecision.toFloat16((float) d));
          default -> out.putShort(HalfPrecision.toBfloat16((float) d));
        }
        continue;
      }
      if (floatingSource && (d != Math.rint(d) || Double.isInfinite(d))) {
        throw new IllegalArgumentException("input '" + input + "' expects " + expected.tfName()
            + " but value " + d + " is not an integer");
      }
      if (!fits(l, expected) || (floatingSource && (d > Long.MAX_VALUE || d < Long.MIN_VALUE))) {
        throw new IllegalArgumentException("input '" + input + "' expects " + expected.tfName()
            + " but value " + (floatingSource ? String.valueOf(d) : String.valueOf(l)) + " is out of range");
      }
      switch (expected.byteSize()) {
        case 1 -> out.put((byte) l);
        case 2 -> out.putShort((short) l);
        case 4 -> out.putInt((int) l);
        default -> out.putLong(l);
      }
    }
    return Tensor.of(expected, t.shape(), out.array());
  }

  private static boolean fits(long v, DType t) {
    return switch (t) {
      case INT8 -> v >= Byte.MIN_VALUE && v <= Byte.MAX_VALUE;
      case INT16 -> v >= Short.MIN_VALUE && v <= Short.MAX_VALUE;
      case INT32 -> v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE;
      case UINT8 -> v >= 0 && v <= 0xff;
      case UINT16 -> v >= 0 && v <= 0xffff;
      case UINT32 -> v >= 0 && v <= 0xffffffffL;
      case UINT64 -> v >= 0;
      default -> true;
    };
  }

  static IllegalArgumentException mismatch(String input, DType given, DType expected) {
    return new IllegalArgumentException("input '" + input + "' expects " + expected.tfName() + " but got "
        + given.tfName());
  }
}
