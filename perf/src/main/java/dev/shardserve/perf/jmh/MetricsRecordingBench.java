package dev.shardserve.perf.jmh;

import dev.shardserve.metrics.Api;
import dev.shardserve.metrics.MetricsSettings;
import dev.shardserve.metrics.ModelMetrics;
import dev.shardserve.metrics.Protocol;
import dev.shardserve.metrics.ShardServeMetrics;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What recording metrics costs per request on the request path (goal: under 1 µs). {@code request}
 * is every call one predict makes (gateway: in flight up and down, the answer's counter and
 * latency; node: queue wait) plus a 32-row batch's record shared by 32 requests; {@code twoThreads}
 * the same from two threads at once (the counters' cache lines contended, as on the two runtime
 * threads of a 2-core node); {@code withLookup} adds the per-request handle lookup by model name
 * that a caller skips by keeping the handle; {@code nativeHistograms} runs each with native
 * histograms on as well.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MetricsRecordingBench {
  @Param({"false", "true"})
  boolean nativeHistograms;

  ShardServeMetrics metrics;
  ModelMetrics model;
  long durationNanos = 1_234_567;
  int n;

  @Setup
  public void setup() {
    metrics = ShardServeMetrics.create(new MetricsSettings("127.0.0.1", -1, nativeHistograms, 1000, 5));
    for (String other : new String[] {"half_plus_two", "resnet", "bert", "mlp"}) {
      metrics.model(other).requestAnswered(Protocol.REST_V1, Api.PREDICT, 200, 1, 1);
    }
    model = metrics.model("mlp");
  }

  private void record(ModelMetrics m) {
    m.inflightIncrement();
    m.queueWaited(durationNanos >> 4);
    if ((++n & 31) == 0) {
      m.batchRan(32, 0, durationNanos >> 2);
    }
    m.requestAnswered(Protocol.REST_V1, Api.PREDICT, 200, 1, durationNanos);
    m.inflightDecrement();
  }

  @Benchmark
  public void request() {
    record(model);
  }

  @Benchmark
  @Threads(2)
  public void twoThreads() {
    record(model);
  }

  @Benchmark
  public void withLookup() {
    record(metrics.model("mlp"));
  }

  @Benchmark
  public void requestAnsweredOnly() {
    model.requestAnswered(Protocol.REST_V1, Api.PREDICT, 200, 1, durationNanos);
  }
}
