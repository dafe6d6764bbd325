package dev.shardserve.node.batch;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shardserve.concurrent.Ticker;
import dev.shardserve.dataplane.InferCall;
import dev.shardserve.desired.BatchingSpec;
import dev.shardserve.metrics.MetricsSettings;
import dev.shardserve.metrics.ShardServeMetrics;
import dev.shardserve.node.runtime.LoadedModel;
import dev.shardserve.node.runtime.ManualClock;
import dev.shardserve.node.runtime.PreparedSignature;
import dev.shardserve.node.runtime.RuntimePool;
import dev.shardserve.node.runtime.SavedModelLoader;
import dev.shardserve.node.runtime.SessionSettings;
import dev.shardserve.node.testing.SimulatedModels;
import dev.shardserve.protocol.ModelProtocol.InferReply;
import dev.shardserve.protocol.ModelProtocol.InferResult;
import dev.shardserve.protocol.Tensor;
import dev.shardserve.protocol.VersionSelector;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica's queue on a simulated accelerator, time driven by hand: batches are capped at the
 * device's {@code max_batch_size}, at most {@code concurrency} run at once, the runtime threads are
 * free while the device computes, and every request is answered with its own rows once the clock
 * reaches the batch's end.
 */
class SimulatedQueueTest {
  @TempDir Path dir;
  static final ShardServeMetrics metrics = ShardServeMetrics.create(MetricsSettings.DEFAULT);
  RuntimePool pool;
  ManualClock clock;

  @BeforeEach
  void start() {
    pool = new RuntimePool(2, Ticker.SYSTEM);
    clock = new ManualClock();
  }

  @AfterEach
  void stop() {
    pool.shutdown();
  }

  private LoadedModel load(int maxBatch, int concurrency) {
    SimulatedModels.write(dir.resolve("1"), 2, 1000, 100, maxBatch, concurrency);
    return SavedModelLoader.load(dir.resolve("1"), 1, SessionSettings.callingThread().withSimulator(clock.simulator()));
  }

  private static Tensor row(int i) {
    return Tensor.ofFloats(new long[] {1, 2}, i, -i);
  }

  private void offer(InferenceQueue q, LoadedModel m, int i, Map<Integer, InferReply> replies) {
    assertTrue(m.acquire());
    PreparedSignature sig = m.prepared("serving_default");
    Map<String, Tensor> inputs = sig.bind(Map.of("x", row(i)));
    InferCall.Predict call = new InferCall.Predict("sim", VersionSelector.latest(), "serving_default", inputs,
        System.nanoTime() + 60_000_000_000L);
    assertNull(q.offer(new InferenceQueue.Pending(call, m, sig, r -> replies.put(i, r), System.nanoTime()), "rows-2",
        inputs, 1));
  }

  @Test
  void batchesAreCappedByTheDevice_oneRunsAtATime_andTheRuntimeThreadsStayFree() throws Exception {
    LoadedModel m = load(4, 1);
    // the model allows 64 rows and 2 batches at once; the device's 4 rows and 1 batch win
    InferenceQueue q = new InferenceQueue("sim", 0, new BatchingSpec(true, 64, 0, 1024, List.of(), 2, true), pool,
        metrics.model("sim"));
    Map<Integer, InferReply> replies = new ConcurrentHashMap<>();
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    pool.submit("hold", () -> { // keep one thread busy so that the 10 requests are queued together
      held.countDown();
      hold(release);
    });
    assertTrue(held.await(10, TimeUnit.SECONDS));
    pool.submit("hold2", () -> hold(release));
    for (int i = 0; i < 10; i++) {
      offer(q, m, i, replies);
    }
    release.countDown();
    await().atMost(Duration.ofSeconds(10)).until(() -> clock.pending() == 1);
    assertEquals(1, q.running(), "one batch on the device, the rest wait in the batcher");
    // the device computes and no runtime thread waits for it: both take other work meanwhile
    CountDownLatch both = new CountDownLatch(2);
    CountDownLatch meet = new CountDownLatch(1);
    for (int i = 0; i < 2; i++) {
      pool.submit("other-" + i, () -> {
        both.countDown();
        hold(meet);
      });
    }
    assertTrue(both.await(10, TimeUnit.SECONDS), "both runtime threads are free while the device runs a batch");
    meet.countDown();
    assertEquals(0, replies.size());
    long batchNanos = (1000 + 4 * 100) * 1000L;
    clock.advance(batchNanos - 1);
    assertEquals(0, replies.size(), "nothing ends before the batch's time");
    clock.advance(1); // the first batch of 4 ends (completions run on this thread)
    assertEquals(4, replies.size());
    await().atMost(Duration.ofSeconds(10)).until(() -> clock.pending() == 1);
    clock.advance(batchNanos);
    assertEquals(8, replies.size());
    await().atMost(Duration.ofSeconds(10)).until(() -> clock.pending() == 1);
    clock.advance((1000 + 2 * 100) * 1000L); // the last batch has 2 rows
    assertEquals(10, replies.size());
    for (int i = 0; i < 10; i++) {
      InferResult r = assertInstanceOf(InferResult.class, replies.get(i), String.valueOf(replies.get(i)));
      assertArrayEquals(new float[] {i, -i}, r.outputs().get("y").floats(), "request " + i + " gets its own row");
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> q.queuedRequests() == 0 && q.running() == 0);
    m.close();
    assertTrue(m.isFreed(), "every reference was given back");
  }

  @Test
  void aDeviceOfConcurrencyTwo_runsTwoBatchesAtOnce() {
    LoadedModel m = load(2, 2);
    InferenceQueue q = new InferenceQueue("sim2", 0, new BatchingSpec(true, 64, 0, 1024, List.of(), 0, true), pool,
        metrics.model("sim2"));
    Map<Integer, InferReply> replies = new ConcurrentHashMap<>();
    for (int i = 0; i < 6; i++) {
      offer(q, m, i, replies);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> clock.pending() == 2);
    assertEquals(2, q.running());
    clock.advance((1000 + 2 * 100) * 1000L);
    assertTrue(replies.size() >= 2, "the two batches that ran end together: " + replies.size());
    await().atMost(Duration.ofSeconds(10)).until(() -> clock.pending() > 0 || replies.size() == 6);
    while (replies.size() < 6) {
      long next = clock.nextDueNanos();
      if (next > 0) {
        clock.advance(next - clock.nanos());
      }
      int have = replies.size();
      await().atMost(Duration.ofSeconds(10)).until(() -> clock.pending() > 0 || replies.size() == 6
          || replies.size() > have);
    }
    assertEquals(6, replies.size());
    m.close();
  }

  @Test
  void cappingTheBatchSize_keepsAllowedSizesBelowIt_andEndsWithIt() {
    BatchingSpec s = new BatchingSpec(true, 64, 0, 10, List.of(8, 16, 64), 0, true);
    BatchingSpec c = InferenceQueue.capped(s, 20);
    assertEquals(20, c.maxBatchSize());
    assertEquals(List.of(8, 16, 20), c.allowedBatchSizes());
    assertEquals(s, InferenceQueue.capped(s, 64));
    assertEquals(List.of(), InferenceQueue.capped(BatchingSpec.DEFAULT, 4).allowedBatchSizes());
  }

  private static void hold(CountDownLatch l) {
    try {
      l.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
