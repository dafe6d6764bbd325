package dev.shardserve.gateway.kserve;

import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.Outputs;
import dev.shardserve.protocol.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The binary tensor format of the Open Inference Protocol, shared by the REST binary extension
 * and gRPC's {@code raw_input_contents} / {@code raw_output_contents}: little-endian, row-major,
 * no padding; {@code BOOL} one byte per element (0 or 1); {@code BYTES} each element as a 4-byte
 * little-endian unsigned length followed by its bytes. It is {@link Tensor}'s own layout, so a
 * numeric input costs one copy (out of the request buffer) and a numeric output none.
 */
public final class V2Tensors {
  private V2Tensors() {}

  /**
   * The tensor that {@code data} (its remaining bytes, which must be exactly the tensor) holds:
   * a 400 naming the input when the bytes do not match the shape and datatype. {@code data}'s
   * position is not moved.
   */
  public static Tensor decode(String input, DType dtype, long[] shape, ByteBuffer data) {
    long n = elements(input, shape);
    int size = data.remaining();
    if (dtype.isString()) {
      return Tensor.ofStrings(shape, strings(input, shape, n, data));
    }
    long expected = n * dtype.byteSize();
    if (size != expected) {
      throw V2Exception.invalid("input '" + input + "' has " + size + " bytes of binary data, but shape "
          + Arrays.toString(shape) + " of " + dtype.kserveName() + " needs " + expected + " bytes ("
          + n + " elements of " + dtype.byteSize() + ")");
    }
    byte[] bytes = new byte[size];
    data.duplicate().get(bytes);
    return checked(input, dtype, shape, bytes);
  }

  /**
   * As {@link #decode(String, DType, long[], ByteBuffer)} for data already in an array of its own,
   * which the tensor takes over without a copy (the caller must not write it afterwards).
   */
  public static Tensor adopt(String input, DType dtype, long[] shape, byte[] data) {
    if (dtype.isString()) {
      return decode(input, dtype, shape, ByteBuffer.wrap(data));
    }
    long n = elements(input, shape);
    long expected = n * dtype.byteSize();
    if (data.length != expected) {
      throw V2Exception.invalid("input '" + input + "' has " + data.length + " bytes of binary data, but shape "
          + Arrays.toString(shape) + " of " + dtype.kserveName() + " needs " + expected + " bytes ("
          + n + " elements of " + dtype.byteSize() + ")");
    }
    return checked(input, dtype, shape, data);
  }

  private static Tensor checked(String input, DType dtype, long[] shape, byte[] bytes) {
    if (dtype == DType.BOOL) {
      for (int i = 0; i < bytes.length; i++) {
        if (bytes[i] != 0 && bytes[i] != 1) {
          throw V2Exception.invalid("input '" + input + "' is BOOL but element " + i + " is the byte "
              + (bytes[i] & 0xff) + " (BOOL elements are one byte, 0 or 1)");
        }
      }
    }
    return Tensor.of(dtype, shape, bytes);
  }

  /** The element count of {@code shape}, or a 400 naming the input. */
  static long elements(String input, long[] shape) {
    try {
      return Tensor.elementCount(shape);
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw V2Exception.invalid("input '" + input + "' has an invalid shape " + Arrays.toString(shape) + ": "
          + e.getMessage());
    }
  }

  private static List<byte[]> strings(String input, long[] shape, long n, ByteBuffer data) {
    ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int size = b.remaining();
    List<byte[]> out = new ArrayList<>((int) Math.min(n, 1 << 16));
    for (long i = 0; i < n; i++) {
      if (b.remaining() < 4) {
        throw V2Exception.invalid("input '" + input + "' (BYTES, shape " + Arrays.toString(shape) + ", " + n
            + " elements) ends after " + i + " elements: its " + size + " bytes of binary data hold no 4-byte "
            + "length for element " + i);
      }
      long length = b.getInt() & 0xffffffffL;
      if (length > b.remaining()) {
        throw V2Exception.invalid("input '" + input + "' element " + i + " declares " + length
            + " bytes, but only " + b.remaining() + " bytes of its binary data are left");
      }
      byte[] element = new byte[(int) length];
      b.get(element);
      out.add(element);
    }
    if (b.hasRemaining()) {
      throw V2Exception.invalid("input '" + input + "' (BYTES, shape " + Arrays.toString(shape) + ") has "
          + b.remaining() + " bytes of binary data left after its " + n + " elements");
    }
    return out;
  }

  /** The size in bytes of output {@code i} of {@code outputs} in the binary format. */
  public static long byteSize(Outputs outputs, int i) {
    DType dtype = outputs.dtype(i);
    int n = outputs.elementCount(i);
    if (!dtype.isString()) {
      return (long) n * dtype.byteSize();
    }
    List<byte[]> strings = outputs.backing(i).strings();
    int from = outputs.elementOffset(i);
    long total = 4L * n;
    for (int k = 0; k < n; k++) {
      total += strings.get(from + k).length;
    }
    return total;
  }

  /**
   * Output {@code i} of {@code outputs} in the binary format. A numeric or BOOL output is a view
   * of the batch's output buffer (no copy; a heap buffer whose array must not be written); a
   * BYTES output is encoded into a new buffer. Position 0, limit = the size.
   */
  public static ByteBuffer encode(Outputs outputs, int i) {
    DType dtype = outputs.dtype(i);
    Tensor backing = outputs.backing(i);
    int n = outputs.elementCount(i);
    int from = outputs.elementOffset(i);
    if (!dtype.isString()) {
      int size = dtype.byteSize();
      return ByteBuffer.wrap(backing.data(), from * size, n * size).slice();
    }
    long total = byteSize(outputs, i);
    if (total > Integer.MAX_VALUE - 8) {
      throw new V2Exception(dev.shardserve.protocol.ErrorCode.TOO_LARGE, "output '" + outputs.name(i) + "' is "
          + total + " bytes in the binary format, more than one answer can hold");
    }
    ByteBuffer out = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
    List<byte[]> strings = backing.strings();
    for (int k = 0; k < n; k++) {
      byte[] s = strings.get(from + k);
      out.putInt(s.length);
      out.put(s);
    }
    return out.flip();
  }

  /** {@code elements} in the binary BYTES format (for clients and tests that build requests). */
  public static byte[] encodeBytes(List<byte[]> elements) {
    int total = 0;
    for (byte[] e : elements) {
      total = Math.addExact(total, 4 + e.length);
    }
    ByteBuffer out = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
    for (byte[] e : elements) {
      out.putInt(e.length);
      out.put(e);
    }
    return out.array();
  }
}
