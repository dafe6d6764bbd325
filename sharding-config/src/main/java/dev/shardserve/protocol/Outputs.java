package dev.shardserve.protocol;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The outputs of one request, by alias in name order, as views: rows {@code [fromRow, toRow)} of
 * tensors that a whole batch shares, or whole tensors. A runtime thread hands every request of a
 * batch a view of the same output buffers, and the answer is encoded (or serialized) straight
 * from them: no per-request copy. The backing arrays are never written after construction.
 */
public final class Outputs {
  private final String[] names;
  private final Tensor[] backing;
  /** First row of the view, or -1 for whole tensors. */
  private final int fromRow;
  private final int toRow;

  private Outputs(String[] names, Tensor[] backing, int fromRow, int toRow) {
    this.names = names;
    this.backing = backing;
    this.fromRow = fromRow;
    this.toRow = toRow;
  }

  /** Whole tensors. */
  public static Outputs of(Map<String, Tensor> tensors) {
    TreeMap<String, Tensor> sorted = new TreeMap<>(tensors);
    return new Outputs(sorted.keySet().toArray(new String[0]), sorted.values().toArray(new Tensor[0]), -1, -1);
  }

  /** Whole tensors, by names already in ascending order (a signature's prepared output order). */
  public static Outputs ofSorted(String[] names, Tensor[] tensors) {
    if (names.length != tensors.length) {
      throw new IllegalArgumentException(names.length + " names for " + tensors.length + " tensors");
    }
    for (int i = 1; i < names.length; i++) {
      if (names[i - 1].compareTo(names[i]) >= 0) {
        throw new IllegalArgumentException("names not in ascending order: " + Arrays.toString(names));
      }
    }
    return new Outputs(names, tensors, -1, -1);
  }

  /**
   * Rows {@code [fromRow, toRow)} of this (whole) set of batch outputs; every output must have at
   * least {@code toRow} rows along its first dimension.
   */
  public Outputs rows(int from, int to) {
    if (fromRow >= 0) {
      throw new IllegalStateException("already a row view");
    }
    for (int i = 0; i < backing.length; i++) {
      Tensor t = backing[i];
      if (t.rank() == 0 || t.shape()[0] < to || from < 0 || from > to) {
        throw new IllegalArgumentException("output '" + names[i] + "' of shape " + Arrays.toString(t.shape())
            + " has no rows [" + from + ", " + to + ")");
      }
    }
    return new Outputs(names, backing, from, to);
  }

  public int size() {
    return names.length;
  }

  /** The i-th output's alias (aliases are in name order). */
  public String name(int i) {
    return names[i];
  }

  public DType dtype(int i) {
    return backing[i].dtype();
  }

  /** The shape of this request's part of output i. */
  public long[] shape(int i) {
    long[] shape = backing[i].shape();
    if (fromRow < 0) {
      return shape;
    }
    long[] s = shape.clone();
    s[0] = toRow - fromRow;
    return s;
  }

  /** The tensor output i is a view of (the whole batch's); read it from {@link #elementOffset}. */
  public Tensor backing(int i) {
    return backing[i];
  }

  /** Index, in elements of {@link #backing}, of this view's first element of output i. */
  public int elementOffset(int i) {
    if (fromRow <= 0) {
      return 0;
    }
    return (int) (fromRow * rowElements(backing[i]));
  }

  public int elementCount(int i) {
    return (int) Tensor.elementCount(shape(i));
  }

  /** Index of {@code name}, or -1. */
  public int indexOf(String name) {
    int i = Arrays.binarySearch(names, name);
    return i < 0 ? -1 : i;
  }

  /** Output {@code name} as a tensor of its own (a copy when this is a row view), or null. */
  public Tensor get(String name) {
    int i = indexOf(name);
    return i < 0 ? null : tensor(i);
  }

  /** Output i as a tensor of its own (a copy when this is a row view). */
  public Tensor tensor(int i) {
    Tensor t = backing[i];
    if (fromRow < 0 || (fromRow == 0 && toRow == t.shape()[0])) {
      return t;
    }
    long[] shape = shape(i);
    int from = elementOffset(i);
    int n = elementCount(i);
    if (t.dtype().isString()) {
      return Tensor.ofStrings(shape, List.copyOf(t.strings().subList(from, from + n)));
    }
    int size = t.dtype().byteSize();
    return Tensor.of(t.dtype(), shape, Arrays.copyOfRange(t.data(), from * size, (from + n) * size));
  }

  /** Every output as a tensor of its own, by alias. */
  public Map<String, Tensor> toMap() {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (int i = 0; i < names.length; i++) {
      out.put(names[i], tensor(i));
    }
    return out;
  }

  public List<String> names() {
    return List.of(names);
  }

  private static long rowElements(Tensor t) {
    long n = 1;
    long[] s = t.shape();
    for (int d = 1; d < s.length; d++) {
      n *= s[d];
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Outputs other && toMap().equals(other.toMap());
  }

  @Override
  public int hashCode() {
    return toMap().hashCode();
  }

  /** Never prints payloads. */
  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("Outputs[");
    for (int i = 0; i < names.length; i++) {
      b.append(i == 0 ? "" : ", ").append(names[i]).append(' ').append(dtype(i)).append(Arrays.toString(shape(i)));
    }
    return b.append(']').toString();
  }
}
