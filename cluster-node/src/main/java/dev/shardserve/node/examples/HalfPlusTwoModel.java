package dev.shardserve.node.examples;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.io.ParseExample;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TString;
import org.tensorflow.types.family.TType;

/**
 * Writes the half-plus-two SavedModel ({@code y = 0.5 x + 2}) with TensorFlow Java, shaped like
 * TensorFlow Serving's own test model: a predict signature {@code serving_default} (input
 * {@code x}, output {@code y}), and {@code regress_x_to_y} / {@code classify_x_to_y} signatures
 * over serialized {@code tf.Example}s with a float feature {@code x}. By default {@code x} and
 * {@code y} have shape {@code [-1]}, so requests can be batched; {@link #writeAnyShape} writes the
 * unknown-rank variant (any shape, never batched). Optionally the constants differ
 * ({@code y = a x + b}), so tests can tell versions apart.
 */
public final class HalfPlusTwoModel {
  private HalfPlusTwoModel() {}

  private static Operand<TString> strings(Ops tf, String... values) {
    return tf.constant(Shape.of(values.length), DataBuffers.ofObjects(values));
  }

  public static void write(Path versionDir) {
    write(versionDir, 0.5f, 2.0f);
  }

  public static void write(Path versionDir, float a, float b) {
    write(versionDir, a, b, Shape.of(-1));
  }

  /** The unknown-rank variant: {@code x} takes any shape, so requests run one by one. */
  public static void writeAnyShape(Path versionDir) {
    write(versionDir, 0.5f, 2.0f, Shape.unknown());
  }

  private static void write(Path versionDir, float a, float b, Shape xShape) {
    try {
      Files.createDirectories(versionDir.getParent());
      try (Graph g = new Graph(); Session s = new Session(g)) {
        Ops tf = Ops.create(g);
        Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(xShape));
        Operand<TFloat32> y = tf.withName("y").math.add(tf.math.mul(x, tf.constant(a)), tf.constant(b));

        Placeholder<TString> examples = tf.withName("tf_example").placeholder(TString.class,
            Placeholder.shape(Shape.of(-1)));
        List<Operand<?>> denseDefaults = List.of(tf.zeros(tf.constant(new long[] {0}), TFloat32.class));
        List<Class<? extends TType>> noTypes = List.of();
        ParseExample parsed = tf.io.parseExample(examples, strings(tf),
            strings(tf), strings(tf, "x"), strings(tf),
            denseDefaults, 0L, noTypes, noTypes, List.of(), List.of(Shape.of(1)));
        @SuppressWarnings("unchecked")
        Operand<TFloat32> parsedX = (Operand<TFloat32>) parsed.denseValues().get(0);
        Operand<TFloat32> yFromExamples = tf.withName("y_examples").math.add(
            tf.math.mul(parsedX, tf.constant(a)), tf.constant(b));

        Signature predict = Signature.builder().key("serving_default").methodName("tensorflow/serving/predict")
            .input("x", x).output("y", y).build();
        Signature regress = Signature.builder().key("regress_x_to_y").methodName("tensorflow/serving/regress")
            .input("inputs", examples).output("outputs", yFromExamples).build();
        Signature classify = Signature.builder().key("classify_x_to_y").methodName("tensorflow/serving/classify")
            .input("inputs", examples).output("scores", yFromExamples).build();
        SavedModelBundle.exporter(versionDir.toString())
            .withSession(s)
            .withFunction(SessionFunction.create(predict, s))
            .withFunction(SessionFunction.create(regress, s))
            .withFunction(SessionFunction.create(classify, s))
            .export();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write half-plus-two to " + versionDir, e);
    }
  }
}
