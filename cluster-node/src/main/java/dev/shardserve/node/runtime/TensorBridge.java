package dev.shardserve.node.runtime;

import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.ndarray.NdArray;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.ByteDataBuffer;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TBfloat16;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat16;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;
import org.tensorflow.types.TUint16;
import org.tensorflow.types.TUint8;
import org.tensorflow.types.family.TType;

/**
 * Copies between our {@link Tensor} (little-endian bytes) and TensorFlow tensors in one bulk
 * copy each way: no per-element access. The caller owns and closes the TensorFlow tensors.
 * TensorFlow Java 1.1 has no Java types for int8, int16, uint32 and uint64: those dtypes are
 * refused with a clear message.
 */
public final class TensorBridge {
  private TensorBridge() {}

  static Class<? extends TType> tfType(DType dtype) {
    return switch (dtype) {
      case FLOAT16 -> TFloat16.class;
      case BFLOAT16 -> TBfloat16.class;
      case FLOAT32 -> TFloat32.class;
      case FLOAT64 -> TFloat64.class;
      case INT32 -> TInt32.class;
      case INT64 -> TInt64.class;
      case UINT8 -> TUint8.class;
      case UINT16 -> TUint16.class;
      case BOOL -> TBool.class;
      case STRING -> TString.class;
      default -> throw new InferenceException(ErrorCode.INVALID_INPUT,
          "dtype " + dtype.tfName() + " is not supported by this runtime (TensorFlow Java 1.1)");
    };
  }

  public static org.tensorflow.Tensor toTf(Tensor t) {
    Shape shape = Shape.of(t.shape());
    if (t.dtype().isString()) {
      return TString.tensorOfBytes(shape, DataBuffers.ofObjects(t.strings().toArray(new byte[0][])));
    }
    return org.tensorflow.Tensor.of(tfType(t.dtype()), shape, DataBuffers.of(t.data(), true, false));
  }

  /**
   * One TensorFlow tensor of {@code paddedRows} rows holding input {@code alias} of every part in
   * order (each part's rows {@code [fromRow, fromRow + rows)}), the last row repeated as padding:
   * each part's bytes are written straight into TensorFlow's buffer, with no concatenated copy
   * on the heap. Every part's tensor has the same dtype and inner dimensions (the batcher's group).
   */
  static org.tensorflow.Tensor rowsToTf(String alias, List<? extends RowSource> parts, int paddedRows) {
    Tensor first = parts.get(0).inputs().get(alias);
    long[] shape = first.shape().clone();
    shape[0] = paddedRows;
    long rowElements = 1;
    for (int d = 1; d < shape.length; d++) {
      rowElements *= shape[d];
    }
    if (first.dtype().isString()) {
      byte[][] all = new byte[(int) (paddedRows * rowElements)][];
      int at = 0;
      for (RowSource p : parts) {
        List<byte[]> s = p.inputs().get(alias).strings();
        int from = (int) (p.fromRow() * rowElements);
        int n = (int) (p.rows() * rowElements);
        for (int k = 0; k < n; k++) {
          all[at++] = s.get(from + k);
        }
      }
      int last = at - (int) rowElements;
      while (at < all.length) {
        all[at] = all[last + (at - last) % (int) rowElements];
        at++;
      }
      return TString.tensorOfBytes(Shape.of(shape), DataBuffers.ofObjects(all));
    }
    int rowBytes = (int) (rowElements * first.dtype().byteSize());
    org.tensorflow.Tensor t = org.tensorflow.Tensor.of(tfType(first.dtype()), Shape.of(shape));
    try {
      ByteDataBuffer buffer = t.asRawTensor().data();
      long at = 0;
      byte[] lastData = null;
      int lastRow = 0;
      for (RowSource p : parts) {
        byte[] data = p.inputs().get(alias).data();
        int n = p.rows() * rowBytes;
        buffer.offset(at).write(data, p.fromRow() * rowBytes, n);
        at += n;
        lastData = data;
        lastRow = p.fromRow() + p.rows() - 1;
      }
      long end = (long) paddedRows * rowBytes;
      while (at < end) {
        buffer.offset(at).write(lastData, lastRow * rowBytes, rowBytes);
        at += rowBytes;
      }
      return t;
    } catch (RuntimeException e) {
      t.close();
      throw e;
    }
  }

  public static Tensor fromTf(org.tensorflow.Tensor t) {
    DType dtype = DType.fromTfName(t.dataType().name());
    if (dtype == null) {
      throw new InferenceException(ErrorCode.INTERNAL, "output dtype " + t.dataType() + " is not supported");
    }
    long[] shape = t.shape().asArray();
    if (dtype.isString()) {
      NdArray<byte[]> bytes = ((TString) t).asBytes();
      List<byte[]> values = new ArrayList<>((int) Tensor.elementCount(shape));
      bytes.scalars().forEach(s -> values.add(s.getObject()));
      return Tensor.ofStrings(shape, values);
    }
    byte[] data = new byte[(int) t.numBytes()];
    t.asRawTensor().data().read(data);
    return Tensor.of(dtype, shape, data);
  }
}
