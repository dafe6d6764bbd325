package dev.shardserve.perf.baseline;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shardserve.gateway.tfserving.PredictJson;
import dev.shardserve.protocol.DType;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.LongAdder;

/**
 * Baseline 1, the physical ceiling on this machine: the SavedModel run in-process by TensorFlow
 * Java with no HTTP, one caller thread per core, at each batch size asked; rows per second and
 * process CPU per row. Also the latency of one batch-1 call on an idle machine, and what
 * shardserve's JSON decoding of a predict body costs (for the report's efficiency ratio).
 * Prints one JSON object per line.
 *
 * <pre>java -cp shardserve.jar:shardserve-perf.jar dev.shardserve.perf.baseline.Ceiling --model models/mlp
 *     --batches 1,8,32,64,128 --seconds 3 [--json-body body.json,...]</pre>
 */
public final class Ceiling {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Ceiling() {}

  public static void main(String[] argv) throws Exception {
    Map<String, String> a = TfModel.args(argv);
    Path modelDir = Path.of(a.get("model"));
    double seconds = Double.parseDouble(a.getOrDefault("seconds", "3"));
    int threads = Integer.parseInt(a.getOrDefault("threads",
        Integer.toString(Runtime.getRuntime().availableProcessors())));
    int[] batches = Arrays.stream(a.getOrDefault("batches", "1,8,32,64,128").split(","))
        .mapToInt(s -> Integer.parseInt(s.trim())).toArray();
    try (TfModel model = new TfModel(modelDir, TfModel.Threads.parse(a.getOrDefault("tf-threads",
        "calling-thread")))) {
      int width = Math.max(1, model.rowWidth);
      float[] row = new float[width];
      Random r = new Random(7);
      for (int i = 0; i < width; i++) {
        row[i] = r.nextFloat();
      }
      // one caller, batch 1: the latency a request cannot go below
      callLatency(model, row, Math.min(seconds, 2));
      for (int b : batches) {
        throughput(model, row, b, threads, seconds);
      }
    }
    if (a.containsKey("json-body")) {
      for (String f : a.get("json-body").split(",")) {
        jsonDecode(Files.readAllBytes(Path.of(f)), Math.min(seconds, 2));
      }
    }
  }

  private static float[] rows(float[] row, int n) {
    float[] x = new float[row.length * n];
    for (int i = 0; i < n; i++) {
      System.arraycopy(row, 0, x, i * row.length, row.length);
    }
    return x;
  }

  private static void callLatency(TfModel model, float[] row, double seconds) throws Exception {
    float[] x = rows(row, 1);
    long end = System.nanoTime() + (long) (seconds / 2 * 1e9);
    while (System.nanoTime() < end) {
      model.run(x, 1); // warm-up
    }
    List<Long> micros = new ArrayList<>();
    end = System.nanoTime() + (long) (seconds / 2 * 1e9);
    while (System.nanoTime() < end) {
      long t0 = System.nanoTime();
      model.run(x, 1);
      micros.add((System.nanoTime() - t0) / 1000);
    }
    micros.sort(null);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("kind", "latency");
    out.put("batch", 1);
    out.put("calls", micros.size());
    out.put("p50Micros", micros.get(micros.size() / 2));
    out.put("p99Micros", micros.get((int) (micros.size() * 0.99)));
    System.out.println(JSON.writeValueAsString(out));
  }

  private static void throughput(TfModel model, float[] row, int batch, int threads, double seconds)
      throws Exception {
    float[] x = rows(row, batch);
    long warmEnd = System.nanoTime() + (long) (Math.min(1, seconds / 3) * 1e9);
    while (System.nanoTime() < warmEnd) {
      model.run(x, batch);
    }
    LongAdder calls = new LongAdder();
    CountDownLatch ready = new CountDownLatch(threads);
    long[] window = new long[2];
    List<Thread> workers = new ArrayList<>();
    long start = System.nanoTime() + 50_000_000L;
    long end = start + (long) (seconds * 1e9);
    for (int t = 0; t < threads; t++) {
      Thread w = new Thread(() -> {
        ready.countDown();
        while (System.nanoTime() < start) {
          model.run(x, batch); // every caller busy before the window opens
        }
        while (System.nanoTime() < end) {
          model.run(x, batch);
          calls.increment();
        }
      });
      workers.add(w);
      w.start();
    }
    ready.await();
    while (System.nanoTime() < start) {
      Thread.onSpinWait();
    }
    double cpu0 = cpuSeconds();
    window[0] = System.nanoTime();
    for (Thread w : workers) {
      w.join();
    }
    window[1] = System.nanoTime();
    double cpu = cpuSeconds() - cpu0;
    double wall = (window[1] - window[0]) / 1e9;
    long rowsDone = calls.sum() * batch;
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("kind", "throughput");
    out.put("batch", batch);
    out.put("threads", threads);
    out.put("rowsPerSecond", rowsDone / wall);
    out.put("cpuMicrosPerRow", cpu * 1e6 / Math.max(1, rowsDone));
    System.out.println(JSON.writeValueAsString(out));
  }

  /**
   * shardserve's own predict-body decoders (the gateway's code) on the given body, on one thread:
   * the fast path into FLOAT32 (what the gateway runs when the replica is in its JVM, as in
   * standalone), and the full decoder (JSON numbers as INT64/FLOAT64, for replicas elsewhere).
   */
  private static void jsonDecode(byte[] body, double seconds) throws Exception {
    int rows = 0;
    for (var t : PredictJson.decode(body).values()) {
      rows = (int) t.shape()[0];
    }
    Map<String, DType> types = Map.of("x", DType.FLOAT32);
    boolean fast = PredictJson.decodeFast(body, types) != null;
    double fastMicros = fast ? timePerCall(() -> PredictJson.decodeFast(body, types), seconds / 2) : Double.NaN;
    double fullMicros = timePerCall(() -> PredictJson.decode(body), seconds / 2);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("kind", "json-decode");
    out.put("bytes", body.length);
    out.put("rows", rows);
    out.put("microsPerBody", fast ? fastMicros : fullMicros);
    out.put("microsPerRow", (fast ? fastMicros : fullMicros) / Math.max(1, rows));
    out.put("fullMicrosPerRow", fullMicros / Math.max(1, rows));
    System.out.println(JSON.writeValueAsString(out));
  }

  private interface Call {
    void run() throws Exception;
  }

  /** Microseconds per call: half the time warming up, half measuring. */
  private static double timePerCall(Call call, double seconds) throws Exception {
    long end = System.nanoTime() + (long) (seconds / 2 * 1e9);
    while (System.nanoTime() < end) {
      call.run();
    }
    long n = 0;
    long t0 = System.nanoTime();
    end = t0 + (long) (seconds / 2 * 1e9);
    while (System.nanoTime() < end) {
      call.run();
      n++;
    }
    return (System.nanoTime() - t0) / 1e3 / n;
  }

  private static double cpuSeconds() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime() / 1e9;
  }
}
