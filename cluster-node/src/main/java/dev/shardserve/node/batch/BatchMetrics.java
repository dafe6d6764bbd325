package dev.shardserve.node.batch;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * What one model's batching does, counted on the node for the metrics endpoint to come: queue
 * length, batch sizes, queue wait, compute time, and requests refused by reason. Histograms are
 * HdrHistogram (microseconds; rows for batch sizes), safe to record from any thread.
 */
public final class BatchMetrics {

  /** Why a request was not run. */
  public enum Reject {
    QUEUE_FULL,
    TOO_LARGE,
    DEADLINE_EXPIRED,
    FAILED
  }

  private static final ConcurrentHashMap<String, BatchMetrics> BY_MODEL = new ConcurrentHashMap<>();

  public final AtomicInteger queueLength = new AtomicInteger();
  public final LongAdder requests = new LongAdder();
  public final LongAdder batches = new LongAdder();
  public final Histogram batchRows = new ConcurrentHistogram(1_000_000, 2);
  public final Histogram queueWaitMicros = new ConcurrentHistogram(3_600_000_000L, 2);
  public final Histogram computeMicros = new ConcurrentHistogram(3_600_000_000L, 2);
  private final ConcurrentHashMap<Reject, LongAdder> rejects = new ConcurrentHashMap<>();

  /** The metrics of {@code model} on this JVM (one per model, shared by its replicas here). */
  public static BatchMetrics of(String model) {
    return BY_MODEL.computeIfAbsent(model, m -> new BatchMetrics());
  }

  public void reject(Reject reason) {
    rejects.computeIfAbsent(reason, r -> new LongAdder()).increment();
  }

  public long rejects(Reject reason) {
    LongAdder a = rejects.get(reason);
    return a == null ? 0 : a.sum();
  }
}
