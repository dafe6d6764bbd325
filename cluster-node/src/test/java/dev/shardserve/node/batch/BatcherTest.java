package dev.shardserve.node.batch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shardserve.desired.BatchingSpec;
import dev.shardserve.node.batch.Batcher.Batch;
import dev.shardserve.node.batch.Batcher.Done;
import dev.shardserve.node.batch.Batcher.Failed;
import dev.shardserve.node.batch.Batcher.Outcome;
import dev.shardserve.protocol.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The batcher's rules, on a fake clock: no sleeps, no threads. */
class BatcherTest {
  long now = 1_000_000_000L;
  static final long MS = 1_000_000L;

  record Key(String shape) {}

  static final Key A = new Key("[2]");

  Batcher<String> batcher(int maxBatch, long delayMicros, int maxQueued, List<Integer> allowed, boolean split) {
    return new Batcher<>(new BatchingSpec(true, maxBatch, delayMicros, maxQueued, allowed, 0, split), () -> now);
  }

  /** {@code rows} rows of two floats; row r of request {@code id} is [id*100 + r, -(id*100 + r)]. */
  static Map<String, Tensor> rows(int id, int rows) {
    float[] v = new float[rows * 2];
    for (int r = 0; r < rows; r++) {
      v[2 * r] = id * 100 + r;
      v[2 * r + 1] = -(id * 100 + r);
    }
    return Map.of("x", Tensor.ofFloats(new long[] {rows, 2}, v));
  }

  /** The model: y = x + 1, row by row. */
  static Map<String, Tensor> run(Batch<String> b) {
    float[] x = b.inputs().get("x").floats();
    float[] y = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      y[i] = x[i] + 1;
    }
    return Map.of("y", Tensor.ofFloats(b.inputs().get("x").shape(), y));
  }

  static Map<String, Tensor> answers(List<Outcome<String>> outcomes) {
    Map<String, Tensor> out = new HashMap<>();
    for (Outcome<String> o : outcomes) {
      out.put(o.handle(), ((Done<String>) o).outputs().get("y"));
    }
    return out;
  }

  @Test
  void aBatchFormsAtMaxBatchSize_beforeTheDelay() {
    Batcher<String> b = batcher(4, 10_000, 100, List.of(), true);
    b.offer("r1", A, rows(1, 1), 1, now + 1000 * MS);
    b.offer("r2", A, rows(2, 2), 2, now + 1000 * MS);
    assertNull(b.next(), "3 rows of 4, delay not reached");
    b.offer("r3", A, rows(3, 1), 1, now + 1000 * MS);
    Batch<String> batch = b.next();
    assertEquals(4, batch.rows());
    assertEquals(List.of("r1", "r2", "r3"), batch.handles());
  }

  @Test
  void aBatchFormsAtMaxQueueDelay_withWhatIsThere() {
    Batcher<String> b = batcher(64, 2_000, 100, List.of(), true);
    b.offer("r1", A, rows(1, 1), 1, now + 1000 * MS);
    now += MS;
    b.offer("r2", A, rows(2, 1), 1, now + 1000 * MS);
    assertNull(b.next());
    assertEquals(now + MS, b.nextReadyNanos(), "ready 2 ms after the oldest arrived");
    now += MS;
    Batch<String> batch = b.next();
    assertEquals(2, batch.rows());
  }

  @Test
  void outputsGoBackToTheRightRequests() {
    Batcher<String> b = batcher(8, 0, 100, List.of(), true);
    b.offer("r1", A, rows(1, 2), 2, now + 1000 * MS);
    b.offer("r2", A, rows(2, 3), 3, now + 1000 * MS);
    Batch<String> batch = b.next();
    Map<String, Tensor> got = answers(b.complete(batch, run(batch), MS));
    assertArrayEquals(new float[] {101, -99, 102, -100}, got.get("r1").floats());
    assertArrayEquals(new long[] {2, 2}, got.get("r1").shape());
    assertArrayEquals(new float[] {201, -199, 202, -200, 203, -201}, got.get("r2").floats());
    assertEquals(0, b.queuedRequests());
  }

  @Test
  void paddingToAllowedBatchSizes_isExact_andNeverReachesAClient() {
    Batcher<String> b = batcher(8, 0, 100, List.of(2, 4, 8), true);
    b.offer("r1", A, rows(1, 2), 2, now + 1000 * MS);
    b.offer("r2", A, rows(2, 1), 1, now + 1000 * MS);
    Batch<String> batch = b.next();
    assertEquals(3, batch.rows());
    assertEquals(4, batch.paddedRows());
    assertArrayEquals(new long[] {4, 2}, batch.inputs().get("x").shape());
    // the padding row repeats the last real row
    assertArrayEquals(new float[] {100, -100, 101, -101, 200, -200, 200, -200}, batch.inputs().get("x").floats());
    Map<String, Tensor> got = answers(b.complete(batch, run(batch), MS));
    assertArrayEquals(new long[] {1, 2}, got.get("r2").shape());
    assertArrayEquals(new float[] {201, -199}, got.get("r2").floats());
  }

  @Test
  void aLargeRequestIsSplitAndRejoinedExactly_orRefusedWhenSplittingIsOff() {
    Batcher<String> b = batcher(4, 0, 100, List.of(), true);
    b.offer("big", A, rows(1, 10), 10, now + 1000 * MS);
    assertEquals(1, b.queuedRequests());
    List<Outcome<String>> outcomes = new ArrayList<>();
    int batches = 0;
    for (Batch<String> batch; (batch = b.next()) != null; batches++) {
      assertTrue(batch.rows() <= 4);
      outcomes.addAll(b.complete(batch, run(batch), MS));
    }
    assertEquals(3, batches, "4 + 4 + 2 rows");
    Tensor y = answers(outcomes).get("big");
    assertArrayEquals(new long[] {10, 2}, y.shape());
    float[] expected = new float[20];
    for (int r = 0; r < 10; r++) {
      expected[2 * r] = 100 + r + 1;
      expected[2 * r + 1] = -(100 + r) + 1;
    }
    assertArrayEquals(expected, y.floats());
    Batcher<String> noSplit = batcher(4, 0, 100, List.of(), false);
    assertEquals(Batcher.Refusal.TOO_LARGE, noSplit.offer("big", A, rows(1, 10), 10, now + 1000 * MS));
  }

  @Test
  void mixedShapesAreNeverBatchedTogether() {
    Batcher<String> b = batcher(64, 0, 100, List.of(), true);
    Key other = new Key("[3]");
    b.offer("r1", A, rows(1, 1), 1, now + 1000 * MS);
    b.offer("r2", other, Map.of("x", Tensor.ofFloats(new long[] {1, 3}, 1, 2, 3)), 1, now + 1000 * MS);
    b.offer("r3", A, rows(3, 1), 1, now + 1000 * MS);
    Batch<String> first = b.next();
    Batch<String> second = b.next();
    assertEquals(List.of("r1", "r3"), first.handles());
    assertEquals(List.of("r2"), second.handles());
    assertNull(b.next());
  }

  @Test
  void unbatchableRequests_runAlone() {
    Batcher<String> b = batcher(64, 10_000, 100, List.of(), true);
    b.offer("r1", null, rows(1, 1), 1, now + 1000 * MS);
    b.offer("r2", null, rows(2, 1), 1, now + 1000 * MS);
    assertEquals(List.of("r1"), b.next().handles(), "no waiting for a batch: it cannot be batched");
    assertEquals(List.of("r2"), b.next().handles());
  }

  @Test
  void aFullQueueRefusesAtOnce() {
    Batcher<String> b = batcher(64, 10_000, 2, List.of(), true);
    assertNull(b.offer("r1", A, rows(1, 1), 1, now + 1000 * MS));
    assertNull(b.offer("r2", A, rows(2, 1), 1, now + 1000 * MS));
    assertEquals(Batcher.Refusal.FULL, b.offer("r3", A, rows(3, 1), 1, now + 1000 * MS));
  }

  @Test
  void anExpiredRequestIsNeverRun_andItsBatchRunsWithoutIt() {
    Batcher<String> b = batcher(64, 5_000, 100, List.of(), true);
    b.offer("soon", A, rows(1, 1), 1, now + 2 * MS);
    b.offer("later", A, rows(2, 1), 1, now + 1000 * MS);
    now += 3 * MS;
    List<Failed<String>> expired = b.expire();
    assertEquals(1, expired.size());
    assertEquals("soon", expired.get(0).handle());
    assertTrue(expired.get(0).expired());
    now += 2 * MS;
    Batch<String> batch = b.next();
    assertEquals(List.of("later"), batch.handles());
  }

  @Test
  void aBatchNeverWaitsPastTheEarliestDeadlineInIt() {
    Batcher<String> b = batcher(64, 50_000, 100, List.of(), true);
    b.offer("r1", A, rows(1, 1), 1, now + 1000 * MS);
    b.offer("r2", A, rows(2, 1), 1, now + 10 * MS);
    assertEquals(now + 9 * MS, b.nextReadyNanos(), "the 50 ms delay is cut to r2's deadline, less 1 ms to run");
    // once compute time is known, the batch leaves that much earlier
    now += 9 * MS;
    assertTrue(b.expire().isEmpty());
    Batch<String> batch = b.next();
    assertEquals(2, batch.rows());
    b.complete(batch, run(batch), 4 * MS);
    b.offer("r3", A, rows(3, 1), 1, now + 10 * MS);
    assertEquals(now + 6 * MS, b.nextReadyNanos());
  }

  @Test
  void aFailedBatchFailsEachRequestOnce_includingTheOtherPartsOfASplitOne() {
    Batcher<String> b = batcher(2, 0, 100, List.of(), true);
    b.offer("big", A, rows(1, 4), 4, now + 1000 * MS);
    b.offer("small", A, rows(2, 1), 1, now + 1000 * MS);
    Batch<String> first = b.next();
    List<Outcome<String>> failed = b.fail(first, "boom");
    assertEquals(1, failed.size());
    assertInstanceOf(Failed.class, failed.get(0));
    Batch<String> next = b.next();
    assertEquals(List.of("small"), next.handles(), "the rest of the failed request is dropped, not run");
    assertEquals(1, b.complete(next, run(next), MS).size());
    assertEquals(0, b.queuedRequests());
  }
}
