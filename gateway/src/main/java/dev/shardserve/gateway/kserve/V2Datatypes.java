package dev.shardserve.gateway.kserve;

import dev.shardserve.protocol.DType;
import java.util.ArrayList;
import java.util.List;

/**
 * The Open Inference Protocol's tensor datatypes ({@code BOOL}, {@code UINT8} ... {@code FP64},
 * {@code BYTES}, and Triton's {@code BF16}) and how they map onto TensorFlow's dtypes, shared by
 * the REST routes and the gRPC service. The mapping is one to one ({@code BYTES} is
 * {@code DT_STRING}); a request's declared datatype must equal the signature's, as Triton
 * requires, and is never converted.
 *
 * <p>TensorFlow Java 1.1 has no Java tensor types for {@code INT8}, {@code INT16},
 * {@code UINT32} and {@code UINT64} ({@code org.tensorflow.types} stops at TUint8, TUint16,
 * TInt32, TInt64): inputs of those datatypes are refused with a message that says so.
 */
public final class V2Datatypes {
  private V2Datatypes() {}

  /** The datatype for a v2 name; throws {@code INVALID_INPUT} naming the input and listing the valid names. */
  public static DType parse(String input, String datatype) {
    DType t = datatype == null ? null : DType.fromKserveName(datatype);
    if (t == null) {
      throw V2Exception.invalid("input '" + input + "' has unknown datatype '" + datatype + "'; the datatypes are "
          + names());
    }
    return t;
  }

  /** The v2 name of {@code dtype} ({@code FP32}, {@code BYTES}, ...). */
  public static String name(DType dtype) {
    return dtype.kserveName();
  }

  /** The v2 name of a TensorFlow dtype name such as {@code DT_FLOAT}, or the TensorFlow name itself when v2 has none. */
  public static String nameOfTf(String tfName) {
    DType t = DType.fromTfName(tfName);
    return t == null ? tfName : t.kserveName();
  }

  /** True when this server's TensorFlow runtime can feed and fetch tensors of {@code dtype}. */
  public static boolean runtimeSupports(DType dtype) {
    return switch (dtype) {
      case INT8, INT16, UINT32, UINT64 -> false;
      default -> true;
    };
  }

  /**
   * Checks one input's declared datatype against what the runtime can feed and, when known, what
   * the signature declares ({@code expected}, null when not known here): a 400 naming the input,
   * the expected and the given datatype.
   */
  public static void check(String input, DType given, DType expected) {
    if (!runtimeSupports(given)) {
      throw V2Exception.invalid("input '" + input + "' has datatype " + given.kserveName()
          + ", which TensorFlow Java 1.1 (this server's runtime) cannot feed: it has no tensor type for INT8, "
          + "INT16, UINT32 or UINT64; supported are " + supported());
    }
    if (expected != null && expected != given) {
      throw V2Exception.invalid("input '" + input + "' expects datatype " + expected.kserveName() + " ("
          + expected.tfName() + ") but the request gives " + given.kserveName());
    }
  }

  /** Every v2 datatype name. */
  public static List<String> names() {
    List<String> out = new ArrayList<>();
    for (DType t : DType.values()) {
      out.add(t.kserveName());
    }
    return out;
  }

  /** The v2 datatypes this server can serve. */
  public static List<String> supported() {
    List<String> out = new ArrayList<>();
    for (DType t : DType.values()) {
      if (runtimeSupports(t)) {
        out.add(t.kserveName());
      }
    }
    return out;
  }
}
