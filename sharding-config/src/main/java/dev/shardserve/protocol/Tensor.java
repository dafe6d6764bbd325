package dev.shardserve.protocol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A dense tensor value: dtype, shape and data. Numeric and bool data is one little-endian,
 * row-major byte array with no padding ({@code data}), the layout TensorFlow, the KServe binary
 * format and gRPC raw contents share, so it crosses every boundary without conversion. A
 * {@link DType#STRING} tensor holds one byte array per element ({@code strings}) and no {@code data}.
 *
 * <p>Invariant, checked at construction: every dimension is {@code >= 0}, and the data holds
 * exactly {@code product(shape)} elements. The arrays are not copied: treat them as immutable.
 */
public record Tensor(DType dtype, long[] shape, byte[] data, List<byte[]> strings) {

  public static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

  public Tensor {
    Objects.requireNonNull(dtype, "dtype");
    Objects.requireNonNull(shape, "shape");
    long n = elementCount(shape);
    if (dtype.isString()) {
      if (strings == null || data != null) {
        throw new IllegalArgumentException("a STRING tensor holds strings, not data");
      }
      if (strings.size() != n) {
        throw new IllegalArgumentException(
            "shape " + Arrays.toString(shape) + " needs " + n + " strings, got " + strings.size());
      }
      strings = List.copyOf(strings);
    } else {
      if (data == null || strings != null) {
        throw new IllegalArgumentException("a " + dtype + " tensor holds data, not strings");
      }
      if (data.length != n * dtype.byteSize()) {
        throw new IllegalArgumentException(
            "shape " + Arrays.toString(shape) + " of " + dtype + " needs " + n * dtype.byteSize()
                + " bytes, got " + data.length);
      }
    }
  }

  /** Product of the dimensions; throws naming the shape if a dimension is negative or it overflows an int. */
  public static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
      if (n > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has too many elements");
      }
    }
    return n;
  }

  public static Tensor of(DType dtype, long[] shape, byte[] littleEndianData) {
    return new Tensor(dtype, shape, littleEndianData, null);
  }

  public static Tensor ofFloats(long[] shape, float... values) {
    ByteBuffer b = allocate(values.length, 4);
    b.asFloatBuffer().put(values);
    return of(DType.FLOAT32, shape, b.array());
  }

  public static Tensor ofDoubles(long[] shape, double... values) {
    ByteBuffer b = allocate(values.length, 8);
    b.asDoubleBuffer().put(values);
    return of(DType.FLOAT64, shape, b.array());
  }

  public static Tensor ofInts(long[] shape, int... values) {
    ByteBuffer b = allocate(values.length, 4);
    b.asIntBuffer().put(values);
    return of(DType.INT32, shape, b.array());
  }

  public static Tensor ofLongs(long[] shape, long... values) {
    ByteBuffer b = allocate(values.length, 8);
    b.asLongBuffer().put(values);
    return of(DType.INT64, shape, b.array());
  }

  public static Tensor ofBools(long[] shape, boolean... values) {
    byte[] data = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      data[i] = (byte) (values[i] ? 1 : 0);
    }
    return of(DType.BOOL, shape, data);
  }

  public static Tensor ofStrings(long[] shape, List<byte[]> values) {
    return new Tensor(DType.STRING, shape, null, values);
  }

  private static ByteBuffer allocate(int count, int size) {
    return ByteBuffer.allocate(count * size).order(ORDER);
  }

  public int numElements() {
    return (int) elementCount(shape);
  }

  public int rank() {
    return shape.length;
  }

  /** The data as a little-endian view (numeric and bool dtypes). */
  public ByteBuffer buffer() {
    return ByteBuffer.wrap(data).order(ORDER);
  }

  public float[] floats() {
    requireDType(DType.FLOAT32);
    float[] out = new float[numElements()];
    buffer().asFloatBuffer().get(out);
    return out;
  }

  public double[] doubles() {
    requireDType(DType.FLOAT64);
    double[] out = new double[numElements()];
    buffer().asDoubleBuffer().get(out);
    return out;
  }

  public int[] ints() {
    requireDType(DType.INT32);
    int[] out = new int[numElements()];
    buffer().asIntBuffer().get(out);
    return out;
  }

  public long[] longs() {
    requireDType(DType.INT64);
    long[] out = new long[numElements()];
    buffer().asLongBuffer().get(out);
    return out;
  }

  private void requireDType(DType expected) {
    if (dtype != expected) {
      throw new IllegalStateException("tensor is " + dtype + ", not " + expected);
    }
  }

  /** Bytes this tensor occupies in memory and on the wire, roughly. */
  public long byteSize() {
    if (!dtype.isString()) {
      return data.length;
    }
    long n = 0;
    for (byte[] s : strings) {
      n += s.length + 4;
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Tensor t) || dtype != t.dtype || !Arrays.equals(shape, t.shape)) {
      return false;
    }
    if (dtype.isString()) {
      if (strings.size() != t.strings.size()) {
        return false;
      }
      for (int i = 0; i < strings.size(); i++) {
        if (!Arrays.equals(strings.get(i), t.strings.get(i))) {
          return false;
        }
      }
      return true;
    }
    return Arrays.equals(data, t.data);
  }

  @Override
  public int hashCode() {
    int h = 31 * dtype.hashCode() + Arrays.hashCode(shape);
    if (dtype.isString()) {
      List<Integer> hs = new ArrayList<>(strings.size());
      for (byte[] s : strings) {
        hs.add(Arrays.hashCode(s));
      }
      return 31 * h + hs.hashCode();
    }
    return 31 * h + Arrays.hashCode(data);
  }

  /** Never prints the payload (CONVENTIONS: no tensor data in logs). */
  @Override
  public String toString() {
    return "Tensor[" + dtype + " " + Arrays.toString(shape) + "]";
  }
}
