package dev.shardserve.node.examples;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
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
import org.tensorflow.types.TFloat32;

/**
 * A compute-bound benchmark model: a multi-layer perceptron 784-512-512-10 (MNIST-sized) with
 * ReLU and a softmax, weights drawn from a fixed seed so that every run serves the same model.
 * Signature {@code serving_default}: input {@code x} float [-1, 784] (a batch dimension, so it
 * batches), output {@code probabilities} float [-1, 10]. The weights are graph constants: no
 * variables to restore.
 */
public final class MlpModel {
  public static final int INPUT = 784;
  public static final int HIDDEN = 512;
  public static final int CLASSES = 10;

  private MlpModel() {}

  public static void write(Path versionDir, long seed) {
    try {
      Files.createDirectories(versionDir.getParent());
      Random random = new Random(seed);
      try (Graph g = new Graph(); Session s = new Session(g)) {
        Ops tf = Ops.create(g);
        Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class,
            Placeholder.shape(Shape.of(-1, INPUT)));
        Operand<TFloat32> h1 = tf.nn.relu(dense(tf, x, INPUT, HIDDEN, random));
        Operand<TFloat32> h2 = tf.nn.relu(dense(tf, h1, HIDDEN, HIDDEN, random));
        Operand<TFloat32> logits = dense(tf, h2, HIDDEN, CLASSES, random);
        Operand<TFloat32> probabilities = tf.withName("probabilities").nn.softmax(logits);
        Signature predict = Signature.builder().key("serving_default").methodName("tensorflow/serving/predict")
            .input("x", x).output("probabilities", probabilities).build();
        SavedModelBundle.exporter(versionDir.toString()).withSession(s)
            .withFunction(SessionFunction.create(predict, s)).export();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the MLP model to " + versionDir, e);
    }
  }

  /** x · W + b, with W scaled for unit variance (He initialisation) so activations stay finite. */
  private static Operand<TFloat32> dense(Ops tf, Operand<TFloat32> in, int from, int to, Random random) {
    float[] w = new float[from * to];
    double scale = Math.sqrt(2.0 / from);
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (random.nextGaussian() * scale);
    }
    float[] b = new float[to];
    for (int i = 0; i < to; i++) {
      b[i] = (float) (random.nextGaussian() * 0.01);
    }
    Operand<TFloat32> weights = tf.constant(Shape.of(from, to), DataBuffers.of(w, true, false));
    Operand<TFloat32> bias = tf.constant(Shape.of(to), DataBuffers.of(b, true, false));
    return tf.math.add(tf.linalg.matMul(in, weights), bias);
  }
}
