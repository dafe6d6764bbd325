package dev.shardserve.node.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.tensorflow.Graph;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TBfloat16;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat16;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TUint16;
import org.tensorflow.types.TUint8;
import org.tensorflow.types.family.TType;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TString;

/** Small SavedModels written by TensorFlow Java for tests, each exercising one API shape. */
public final class FixtureModels {
  private FixtureModels() {}

  /** {@code y = 2x} with x of fixed shape [-1, 3]: for shape errors. */
  public static void writeFixedShape(Path versionDir) {
    export(versionDir, (tf, g) -> {
      Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 3)));
      return Signature.builder().key("serving_default").methodName("tensorflow/serving/predict")
          .input("x", x).output("y", tf.withName("y").math.mul(x, tf.constant(2f))).build();
    });
  }

  /** Two inputs {@code a}, {@code b} (float [-1]) and two outputs {@code sum}, {@code product}. */
  public static void writeTwoInputs(Path versionDir) {
    export(versionDir, (tf, g) -> {
      Placeholder<TFloat32> a = tf.withName("a").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
      Placeholder<TFloat32> b = tf.withName("b").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
      return Signature.builder().key("serving_default").methodName("tensorflow/serving/predict")
          .input("a", a).input("b", b)
          .output("sum", tf.withName("sum").math.add(a, b))
          .output("product", tf.withName("product").math.mul(a, b)).build();
    });
  }

  /** Echoes a string input {@code text} as output {@code text_bytes} (written back as b64). */
  public static void writeBytesEcho(Path versionDir) {
    export(versionDir, (tf, g) -> {
      Placeholder<TString> text = tf.withName("text").placeholder(TString.class, Placeholder.shape(Shape.of(-1)));
      return Signature.builder().key("serving_default").methodName("tensorflow/serving/predict")
          .input("text", text).output("text_bytes", tf.withName("echo").identity(text)).build();
    });
  }

  /**
   * An embedding lookup: input {@code ids} (int32 [-1]) gathers rows of a fixed 5 x 2 table
   * (row i is [10 i, 10 i + 1]) into output {@code vectors} (float [-1, 2]). An id outside [0, 5)
   * makes TensorFlow fail at run time, naming the index: for batch isolation tests.
   */
  public static void writeEmbedding(Path versionDir) {
    export(versionDir, (tf, g) -> {
      Placeholder<TInt32> ids = tf.withName("ids").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
      float[] table = new float[10];
      for (int i = 0; i < 5; i++) {
        table[2 * i] = 10 * i;
        table[2 * i + 1] = 10 * i + 1;
      }
      var params = tf.constant(Shape.of(5, 2), org.tensorflow.ndarray.buffer.DataBuffers.of(table));
      return Signature.builder().key("serving_default").methodName("tensorflow/serving/predict")
          .input("ids", ids).output("vectors", tf.withName("vectors").gather(params, ids, tf.constant(0))).build();
    });
  }

  /**
   * An answer much larger than its request: {@code y} (float [-1]) is {@code x} (float [-1])
   * tiled 2,000 times. For frame-limit tests.
   */
  public static void writeTile(Path versionDir) {
    export(versionDir, (tf, g) -> {
      Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
      return Signature.builder().key("serving_default").methodName("tensorflow/serving/predict")
          .input("x", x).output("y", tf.withName("y").tile(x, tf.constant(new int[] {2000}))).build();
    });
  }

  /** The dtypes TensorFlow Java 1.1 has tensor types for, by Open Inference Protocol name. */
  public static final Map<String, Class<? extends TType>> DTYPES = dtypes();

  private static Map<String, Class<? extends TType>> dtypes() {
    Map<String, Class<? extends TType>> m = new LinkedHashMap<>();
    m.put("BOOL", TBool.class);
    m.put("UINT8", TUint8.class);
    m.put("UINT16", TUint16.class);
    m.put("INT32", TInt32.class);
    m.put("INT64", TInt64.class);
    m.put("FP16", TFloat16.class);
    m.put("BF16", TBfloat16.class);
    m.put("FP32", TFloat32.class);
    m.put("FP64", TFloat64.class);
    m.put("BYTES", TString.class);
    return m;
  }

  /**
   * One identity signature per dtype TensorFlow Java can feed, named after its Open Inference
   * Protocol datatype in lower case ({@code fp32}, {@code bytes}, ...): input {@code x} of shape
   * [-1, -1] comes back as output {@code y}. Signature {@code serving_default} takes {@code x}
   * (float [-1, -1]) and answers {@code double} (2x) and {@code plus_one} (x + 1); signature
   * {@code mixed} takes {@code a} (float [-1]) and {@code s} (string [-1]) and echoes them as
   * {@code a_out} and {@code s_out}.
   */
  public static void writeDtypes(Path versionDir) {
    exportAll(versionDir, (tf, g) -> {
      List<Signature> out = new ArrayList<>();
      for (Map.Entry<String, Class<? extends TType>> e : DTYPES.entrySet()) {
        String key = e.getKey().toLowerCase(java.util.Locale.ROOT);
        Placeholder<? extends TType> x = tf.withName("x_" + key).placeholder(e.getValue(),
            Placeholder.shape(Shape.of(-1, -1)));
        out.add(Signature.builder().key(key).methodName("tensorflow/serving/predict")
            .input("x", x).output("y", tf.withName("y_" + key).identity(x)).build());
      }
      Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
      out.add(Signature.builder().key("serving_default").methodName("tensorflow/serving/predict").input("x", x)
          .output("double", tf.withName("double").math.mul(x, tf.constant(2f)))
          .output("plus_one", tf.withName("plus_one").math.add(x, tf.constant(1f))).build());
      Placeholder<TFloat32> a = tf.withName("a").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
      Placeholder<TString> str = tf.withName("s").placeholder(TString.class, Placeholder.shape(Shape.of(-1)));
      out.add(Signature.builder().key("mixed").methodName("tensorflow/serving/predict").input("a", a).input("s", str)
          .output("a_out", tf.withName("a_out").identity(a)).output("s_out", tf.withName("s_out").identity(str))
          .build());
      return out;
    });
  }

  /**
   * A model as slow as a test wants, using no CPU while it waits: {@code serving_default} (input
   * {@code x}, float [-1], ignored) answers {@code y} = the next value put into a queue in the
   * model's session, blocking until there is one; {@code release} (input {@code v}, float [1]) puts
   * {@code v} there. Serve it with synthetic warm-up off (warm-up would block) and batching off.
   */
  public static void writeGate(Path versionDir) {
    try {
      Files.createDirectories(versionDir.getParent());
      try (Graph g = new Graph(); Session s = new Session(g)) {
        Ops tf = Ops.create(g);
        var queue = tf.io.fifoQueue(java.util.List.of(TFloat32.class),
            org.tensorflow.op.io.FifoQueue.shapes(java.util.List.of(Shape.of(1))));
        Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
        @SuppressWarnings("unchecked")
        org.tensorflow.Operand<TFloat32> next = (org.tensorflow.Operand<TFloat32>) tf.io.queueDequeue(queue,
            java.util.List.of(TFloat32.class)).components().get(0);
        Placeholder<TFloat32> v = tf.withName("v").placeholder(TFloat32.class, Placeholder.shape(Shape.of(1)));
        var put = tf.io.queueEnqueue(queue, java.util.List.of(v));
        var ok = tf.withControlDependencies(java.util.List.of(put)).withName("ok").identity(v);
        Signature wait = Signature.builder().key("serving_default").methodName("tensorflow/serving/predict")
            .input("x", x).output("y", tf.withName("y").identity(next)).build();
        Signature release = Signature.builder().key("release").methodName("tensorflow/serving/predict")
            .input("v", v).output("ok", ok).build();
        SavedModelBundle.exporter(versionDir.toString()).withSession(s)
            .withFunction(SessionFunction.create(wait, s)).withFunction(SessionFunction.create(release, s)).export();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the gate model to " + versionDir, e);
    }
  }

  /**
   * Tells each request how many rows its batch had: input {@code x} (float [-1]); output
   * {@code rows} (float [-1]) holds the batch's row count in every row, output {@code y} echoes
   * {@code x}. For tests that two requests shared one TensorFlow call.
   */
  public static void writeBatchProbe(Path versionDir) {
    export(versionDir, (tf, g) -> {
      Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
      var shape = tf.shape(x);
      var rows = tf.dtypes.cast(tf.gather(shape, tf.constant(0), tf.constant(0)), TFloat32.class);
      return Signature.builder().key("serving_default").methodName("tensorflow/serving/predict").input("x", x)
          .output("rows", tf.withName("rows").fill(shape, rows))
          .output("y", tf.withName("y").identity(x)).build();
    });
  }

  private static void export(Path versionDir, BiFunction<Ops, Graph, Signature> build) {
    exportAll(versionDir, (tf, g) -> List.of(build.apply(tf, g)));
  }

  private static void exportAll(Path versionDir, BiFunction<Ops, Graph, List<Signature>> build) {
    try {
      Files.createDirectories(versionDir.getParent());
      try (Graph g = new Graph(); Session s = new Session(g)) {
        List<Signature> signatures = build.apply(Ops.create(g), g);
        SavedModelBundle.Exporter exporter = SavedModelBundle.exporter(versionDir.toString()).withSession(s);
        for (Signature sig : signatures) {
          exporter = exporter.withFunction(SessionFunction.create(sig, s));
        }
        exporter.export();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write fixture model to " + versionDir, e);
    }
  }
}
