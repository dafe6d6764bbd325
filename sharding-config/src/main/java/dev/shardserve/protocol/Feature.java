package dev.shardserve.protocol;

import java.util.Arrays;
import java.util.List;

/**
 * One feature of a {@code tf.Example}, as the classify and regress APIs send them: a list of
 * floats, of 64-bit integers, or of byte strings. The gateway builds these from JSON; the node
 * turns them into serialized {@code tf.Example} protos, so TensorFlow stays on the node.
 */
public sealed interface Feature permits Feature.FloatList, Feature.Int64List, Feature.BytesList {

  int size();

  record FloatList(float[] values) implements Feature {
    @Override
    public int size() {
      return values.length;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof FloatList f && Arrays.equals(values, f.values);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(values);
    }

    @Override
    public String toString() {
      return "FloatList[" + values.length + "]";
    }
  }

  record Int64List(long[] values) implements Feature {
    @Override
    public int size() {
      return values.length;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Int64List f && Arrays.equals(values, f.values);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(values);
    }

    @Override
    public String toString() {
      return "Int64List[" + values.length + "]";
    }
  }

  record BytesList(List<byte[]> values) implements Feature {
    public BytesList {
      values = List.copyOf(values);
    }

    @Override
    public int size() {
      return values.size();
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof BytesList f) || f.values.size() != values.size()) {
        return false;
      }
      for (int i = 0; i < values.size(); i++) {
        if (!Arrays.equals(values.get(i), f.values.get(i))) {
          return false;
        }
      }
      return true;
    }

    @Override
    public int hashCode() {
      int h = 1;
      for (byte[] v : values) {
        h = 31 * h + Arrays.hashCode(v);
      }
      return h;
    }

    @Override
    public String toString() {
      return "BytesList[" + values.size() + "]";
    }
  }
}
