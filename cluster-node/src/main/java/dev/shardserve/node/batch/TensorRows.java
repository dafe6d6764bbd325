package dev.shardserve.node.batch;

import dev.shardserve.protocol.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Row operations along a tensor's first (batch) dimension, on the tensors' little-endian bytes:
 * concatenation, slicing and padding. No element is converted, so what comes out is exactly
 * what went in.
 */
public final class TensorRows {
  private TensorRows() {}

  public static int rows(Tensor t) {
    return (int) t.shape()[0];
  }

  /** dtype and every dimension but the first: tensors that agree here can be concatenated. */
  public static String innerKey(Tensor t) {
    long[] inner = Arrays.copyOfRange(t.shape(), 1, t.shape().length);
    return t.dtype().name() + Arrays.toString(inner);
  }

  private static long rowElements(Tensor t) {
    return Tensor.elementCount(Arrays.copyOfRange(t.shape(), 1, t.shape().length));
  }

  private static long[] withRows(Tensor t, long rows) {
    long[] shape = t.shape().clone();
    shape[0] = rows;
    return shape;
  }

  /** Concatenates along the first dimension; every part has the same dtype and inner dimensions. */
  public static Tensor concat(List<Tensor> parts) {
    if (parts.size() == 1) {
      return parts.get(0);
    }
    Tensor first = parts.get(0);
    long rows = 0;
    for (Tensor p : parts) {
      rows += p.shape()[0];
    }
    if (first.dtype().isString()) {
      List<byte[]> all = new ArrayList<>();
      for (Tensor p : parts) {
        all.addAll(p.strings());
      }
      return Tensor.ofStrings(withRows(first, rows), all);
    }
    int size = 0;
    for (Tensor p : parts) {
      size += p.data().length;
    }
    byte[] data = new byte[size];
    int at = 0;
    for (Tensor p : parts) {
      System.arraycopy(p.data(), 0, data, at, p.data().length);
      at += p.data().length;
    }
    return Tensor.of(first.dtype(), withRows(first, rows), data);
  }

  /** Rows {@code [from, to)}. */
  public static Tensor slice(Tensor t, int from, int to) {
    if (from == 0 && to == t.shape()[0]) {
      return t;
    }
    long per = rowElements(t);
    if (t.dtype().isString()) {
      return Tensor.ofStrings(withRows(t, to - from),
          new ArrayList<>(t.strings().subList((int) (from * per), (int) (to * per))));
    }
    int rowBytes = (int) (per * t.dtype().byteSize());
    return Tensor.of(t.dtype(), withRows(t, to - from),
        Arrays.copyOfRange(t.data(), from * rowBytes, to * rowBytes));
  }

  /** Pads to {@code rows} by repeating the last row (a valid input, unlike zeros for some models). */
  public static Tensor pad(Tensor t, int rows) {
    int have = rows(t);
    if (have >= rows) {
      return t;
    }
    long per = rowElements(t);
    if (t.dtype().isString()) {
      List<byte[]> all = new ArrayList<>(t.strings());
      List<byte[]> last = t.strings().subList((int) ((have - 1) * per), (int) (have * per));
      for (int r = have; r < rows; r++) {
        all.addAll(last);
      }
      return Tensor.ofStrings(withRows(t, rows), all);
    }
    int rowBytes = (int) (per * t.dtype().byteSize());
    byte[] data = Arrays.copyOf(t.data(), rows * rowBytes);
    for (int r = have; r < rows; r++) {
      System.arraycopy(t.data(), (have - 1) * rowBytes, data, r * rowBytes, rowBytes);
    }
    return Tensor.of(t.dtype(), withRows(t, rows), data);
  }
}
