package dev.shardserve.perf.jmh;

import dev.shardserve.node.runtime.TensorBridge;
import dev.shardserve.protocol.Tensor;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/** Copies between shardserve's wire tensor and TensorFlow's native tensors: in before a run, out after it. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TensorCopyBench {
  @Param({"1", "32"})
  int rows;

  Tensor wire;
  org.tensorflow.Tensor native_;

  @Setup(Level.Trial)
  public void setup() {
    Random r = new Random(7);
    float[] v = new float[rows * 784];
    for (int i = 0; i < v.length; i++) {
      v[i] = r.nextFloat();
    }
    wire = Tensor.ofFloats(new long[] {rows, 784}, v);
    native_ = TensorBridge.toTf(wire);
  }

  @TearDown(Level.Trial)
  public void close() {
    native_.close();
  }

  /** Wire tensor into a new TensorFlow tensor (allocation and copy), closed again. */
  @Benchmark
  public long toTensorFlow() {
    try (org.tensorflow.Tensor t = TensorBridge.toTf(wire)) {
      return t.numBytes();
    }
  }

  /** A TensorFlow tensor's contents into a new wire tensor. */
  @Benchmark
  public Tensor fromTensorFlow() {
    return TensorBridge.fromTf(native_);
  }
}
