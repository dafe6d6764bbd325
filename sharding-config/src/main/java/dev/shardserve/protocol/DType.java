package dev.shardserve.protocol;

import java.util.HashMap;
import java.util.Map;

/**
 * Element types a {@link Tensor} can hold: TensorFlow's serving dtypes. Each has a stable wire
 * number (never the ordinal), its element size in bytes (0 for variable-length strings), and its
 * names in TensorFlow ({@code DT_FLOAT}) and in the Open Inference Protocol ({@code FP32}).
 */
public enum DType {
  FLOAT16(1, 2, "DT_HALF", "FP16"),
  BFLOAT16(2, 2, "DT_BFLOAT16", "BF16"),
  FLOAT32(3, 4, "DT_FLOAT", "FP32"),
  FLOAT64(4, 8, "DT_DOUBLE", "FP64"),
  INT8(5, 1, "DT_INT8", "INT8"),
  INT16(6, 2, "DT_INT16", "INT16"),
  INT32(7, 4, "DT_INT32", "INT32"),
  INT64(8, 8, "DT_INT64", "INT64"),
  UINT8(9, 1, "DT_UINT8", "UINT8"),
  UINT16(10, 2, "DT_UINT16", "UINT16"),
  UINT32(11, 4, "DT_UINT32", "UINT32"),
  UINT64(12, 8, "DT_UINT64", "UINT64"),
  BOOL(13, 1, "DT_BOOL", "BOOL"),
  /** Byte strings of any length (TensorFlow {@code DT_STRING}, KServe {@code BYTES}). */
  STRING(14, 0, "DT_STRING", "BYTES");

  private static final DType[] BY_WIRE = new DType[16];
  private static final Map<String, DType> BY_TF_NAME = new HashMap<>();
  private static final Map<String, DType> BY_KSERVE_NAME = new HashMap<>();

  static {
    for (DType t : values()) {
      BY_WIRE[t.wire] = t;
      BY_TF_NAME.put(t.tfName, t);
      BY_KSERVE_NAME.put(t.kserveName, t);
    }
  }

  private final int wire;
  private final int byteSize;
  private final String tfName;
  private final String kserveName;

  DType(int wire, int byteSize, String tfName, String kserveName) {
    this.wire = wire;
    this.byteSize = byteSize;
    this.tfName = tfName;
    this.kserveName = kserveName;
  }

  public int wire() {
    return wire;
  }

  /** Bytes per element; 0 for {@link #STRING}. */
  public int byteSize() {
    return byteSize;
  }

  public String tfName() {
    return tfName;
  }

  public String kserveName() {
    return kserveName;
  }

  public boolean isString() {
    return this == STRING;
  }

  public boolean isFloating() {
    return this == FLOAT16 || this == BFLOAT16 || this == FLOAT32 || this == FLOAT64;
  }

  public boolean isInteger() {
    return !isFloating() && this != BOOL && this != STRING;
  }

  public static DType fromWire(int wire) {
    DType t = wire > 0 && wire < BY_WIRE.length ? BY_WIRE[wire] : null;
    if (t == null) {
      throw new IllegalArgumentException("unknown dtype wire number " + wire);
    }
    return t;
  }

  /** The dtype for a TensorFlow name such as {@code DT_FLOAT}, or null if we do not serve it. */
  public static DType fromTfName(String name) {
    return BY_TF_NAME.get(name);
  }

  /** The dtype for an Open Inference Protocol name such as {@code FP32}, or null if unknown. */
  public static DType fromKserveName(String name) {
    return BY_KSERVE_NAME.get(name);
  }
}
