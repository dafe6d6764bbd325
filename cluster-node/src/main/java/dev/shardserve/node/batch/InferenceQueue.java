package dev.shardserve.node.batch;

import dev.shardserve.concurrent.Ticker;
import dev.shardserve.dataplane.InferCall;
import dev.shardserve.desired.BatchingSpec;
import dev.shardserve.node.batch.Batcher.Batch;
import dev.shardserve.node.batch.Batcher.Done;
import dev.shardserve.node.batch.Batcher.Failed;
import dev.shardserve.node.batch.Batcher.Outcome;
import dev.shardserve.node.batch.Batcher.Part;
import dev.shardserve.node.runtime.InferenceException;
import dev.shardserve.node.runtime.LoadedModel;
import dev.shardserve.node.runtime.PreparedSignature;
import dev.shardserve.node.runtime.RuntimePool;
import dev.shardserve.metrics.ModelMetrics;
import dev.shardserve.metrics.RefusalReason;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.InferReply;
import dev.shardserve.protocol.ModelProtocol.InferResult;
import dev.shardserve.protocol.Outputs;
import dev.shardserve.protocol.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queue of one replica incarnation on the data plane: requests wait in its {@link Batcher};
 * a runtime thread of the node's {@link RuntimePool} takes a batch, writes the rows straight into
 * TensorFlow's input tensors, runs it and answers each request itself (its {@code reply} runs on
 * that thread: the gateway encodes the answer there). State is guarded by the pool's lock.
 *
 * <p>Invariants: every request {@link #offer accepted} is answered exactly once, on every path
 * (its batch ran, failed, threw an {@code Error}, it expired, or the queue was aborted), and its
 * reference on its version is released then. A request that makes TensorFlow fail does not fail
 * its neighbours: a failed batch is split in halves and re-run until only the offenders fail,
 * each with its own message. States: open → closed (drain: nothing new, the rest finishes, then
 * {@code onIdle} runs once) or aborted (restart: the waiting requests are answered UNAVAILABLE).
 */
public final class InferenceQueue extends RuntimePool.Queue {
  private static final Logger log = LoggerFactory.getLogger(InferenceQueue.class);

  /** A request waiting in the batcher: who to answer, and the version it holds a reference on. */
  public record Pending(InferCall call, LoadedModel model, PreparedSignature signature,
      Consumer<InferReply> reply, long enqueuedNanos) {}

  private final String model;
  private final int replica;
  private final RuntimePool pool;
  private final Ticker ticker;
  private final ModelMetrics metrics;
  private final Batcher<Pending> batcher;
  /** The batching settings, readable without the lock (the request path decides batchability). */
  private volatile BatchingSpec spec;
  private int running;
  private boolean closed;
  private String closedReason;
  private Runnable onIdle;

  public InferenceQueue(String model, int replica, BatchingSpec spec, RuntimePool pool, ModelMetrics metrics) {
    this.model = model;
    this.replica = replica;
    this.pool = pool;
    this.ticker = pool.ticker();
    this.metrics = metrics;
    this.spec = spec;
    this.batcher = new Batcher<>(spec, ticker::nanos);
  }

  public BatchingSpec spec() {
    return spec;
  }

  /** The model's metrics (its handle also counts refusals made before a request reaches the queue). */
  public ModelMetrics metrics() {
    return metrics;
  }

  /** New batching settings: for requests offered and batches taken from now on. */
  public void spec(BatchingSpec newSpec) {
    pool.lock().lock();
    try {
      spec = newSpec;
      batcher.spec(newSpec);
      pool.ready(this);
    } finally {
      pool.lock().unlock();
    }
  }

  /**
   * Queues a request (its inputs already checked). Null when accepted (it will be answered on a
   * runtime thread); otherwise the failure to answer with now: the queue is closed
   * (UNAVAILABLE, another replica may take it), full (OVERLOADED) or the request too large.
   */
  public Failure offer(Pending p, Object key, Map<String, Tensor> inputs, int rows) {
    Batcher.Refusal refused;
    int queued;
    pool.lock().lock();
    try {
      if (closed) {
        return new Failure(ErrorCode.UNAVAILABLE, closedReason);
      }
      refused = batcher.offer(p, key, inputs, rows, p.call().deadlineNanos());
      queued = batcher.queuedRequests();
      if (refused == null) {
        pool.ready(this);
      }
    } finally {
      pool.lock().unlock();
    }
    if (refused == null) {
      return null;
    }
    if (refused == Batcher.Refusal.FULL) {
      metrics.refused(RefusalReason.QUEUE_FULL);
      return new Failure(ErrorCode.OVERLOADED, model + " has " + queued
          + " requests queued, its max-queued-requests");
    }
    metrics.refused(RefusalReason.TOO_LARGE);
    return new Failure(ErrorCode.INVALID_INPUT, "the request has " + rows + " rows, more than " + model
        + "'s max-batch-size of " + spec.maxBatchSize() + ", and split-large-requests is off");
  }

  /** Requests waiting or running. */
  public int queuedRequests() {
    pool.lock().lock();
    try {
      return batcher.queuedRequests();
    } finally {
      pool.lock().unlock();
    }
  }

  /** Batches running now. */
  public int running() {
    pool.lock().lock();
    try {
      return running;
    } finally {
      pool.lock().unlock();
    }
  }

  /**
   * Drain: refuses new requests from now on (UNAVAILABLE with {@code reason}), lets the queued and
   * running ones finish, then runs {@code onIdle} once (at once when already idle).
   */
  public void close(String reason, Runnable whenIdle) {
    boolean idleNow;
    pool.lock().lock();
    try {
      closed = true;
      closedReason = reason;
      onIdle = whenIdle;
      idleNow = batcher.queuedRequests() == 0 && running == 0;
      if (idleNow) {
        onIdle = null;
      }
    } finally {
      pool.lock().unlock();
    }
    if (idleNow) {
      whenIdle.run();
    }
  }

  /**
   * Stop now (the replica stops or restarts): refuses new requests and answers every waiting one
   * UNAVAILABLE with {@code reason}; batches already running finish and answer their requests.
   */
  public void abort(String reason) {
    List<Pending> waiting;
    pool.lock().lock();
    try {
      closed = true;
      closedReason = reason;
      onIdle = null;
      waiting = batcher.clear();
    } finally {
      pool.lock().unlock();
    }
    for (Pending p : waiting) {
      deliver(p, new Failure(ErrorCode.UNAVAILABLE, reason));
    }
  }

  // ---- the pool's side (lock held) ----

  @Override
  protected boolean hasWork() {
    return !batcher.isEmpty();
  }

  @Override
  protected long readyAtNanos(long nowNanos) {
    if (batcher.isEmpty() || running >= parallel()) {
      return Long.MAX_VALUE;
    }
    return batcher.nextReadyNanos(nowNanos);
  }

  private int parallel() {
    int p = spec.parallelBatches();
    return p > 0 ? p : pool.threads();
  }

  @Override
  protected Runnable poll(long nowNanos) {
    List<Failed<Pending>> expired = batcher.expire();
    Batch<Pending> batch = running < parallel() ? batcher.next() : null;
    if (batch != null) {
      running++;
    }
    if (batch == null && expired.isEmpty()) {
      return null;
    }
    BatchingSpec taken = spec;
    return () -> execute(expired, batch, taken);
  }

  // ---- a runtime thread, without the lock ----

  private void execute(List<Failed<Pending>> expired, Batch<Pending> batch, BatchingSpec taken) {
    for (Failed<Pending> f : expired) {
      metrics.refused(RefusalReason.DEADLINE);
      deliver(f.handle(), new Failure(ErrorCode.DEADLINE_EXCEEDED, "deadline exceeded while queued for " + model));
    }
    Object[] results = batch == null ? null : new Object[batch.parts().size()];
    long computeNanos = 0;
    Settled settled = null;
    try {
      if (batch != null) {
        long start = ticker.nanos();
        for (Part<Pending> p : batch.parts()) {
          metrics.queueWaited(Math.max(0, start - p.enqueuedNanos()));
        }
        run(batch, taken, results);
        computeNanos = ticker.nanos() - start;
        metrics.batchRan(Math.max(1, batch.rows()), batch.alone() ? 0 : Math.max(0, batch.paddedRows() - batch.rows()),
            computeNanos);
      }
    } catch (Throwable t) {
      // An Error (or a bug) must not leave a request unanswered or a version referenced forever.
      log.error("a batch of {} failed unexpectedly", model, t);
      String message = "internal error running " + model + ": " + t;
      for (int i = 0; i < results.length; i++) {
        if (results[i] == null) {
          results[i] = new Failure(ErrorCode.INTERNAL, message);
        }
      }
    } finally {
      settled = settle(batch, results, computeNanos);
    }
    try {
      for (Outcome<Pending> o : settled.outcomes()) {
        if (o instanceof Done<Pending> d) {
          deliver(d.handle(), new InferResult(d.handle().model().version(), d.outputs()));
        } else {
          Failed<Pending> f = (Failed<Pending>) o;
          deliver(f.handle(), new Failure(f.code(), f.reason()));
        }
      }
    } finally {
      if (settled.idle() != null) {
        settled.idle().run(); // the drain completes after its last answers
      }
    }
  }

  /** Runs the batch, leaving in {@code results[i]} the part's {@link Outputs} or its {@link Failure}. */
  private void run(Batch<Pending> batch, BatchingSpec taken, Object[] results) {
    Pending first = batch.parts().get(0).handle();
    LoadedModel loaded = first.model();
    if (!loaded.acquire()) { // cannot happen while its requests hold references; never run a freed session
      for (int i = 0; i < results.length; i++) {
        results[i] = new Failure(ErrorCode.UNAVAILABLE, model + " version " + loaded.version() + " was unloaded");
      }
      return;
    }
    try {
      if (first.call() instanceof InferCall.Examples e) {
        try {
          results[0] = Outputs.of(loaded.runExamples(e.signatureName(), e.method(), e.examples(), e.context()));
        } catch (InferenceException ex) {
          results[0] = new Failure(ex.code(), ex.getMessage());
        }
        return;
      }
      runIsolated(first.signature(), batch.parts(), 0, batch.parts().size(), batch.alone(), taken, loaded, results);
    } finally {
      loaded.release();
    }
  }

  /**
   * Runs parts {@code [from, to)} together; when TensorFlow refuses them and there is more than
   * one, runs each half on its own, so that only the requests that make it fail get an error.
   */
  private void runIsolated(PreparedSignature sig, List<Part<Pending>> parts, int from, int to, boolean alone,
      BatchingSpec taken, LoadedModel loaded, Object[] results) {
    List<Part<Pending>> sub = parts.subList(from, to);
    int rows = 0;
    for (Part<Pending> p : sub) {
      rows += p.rows();
    }
    int padded = alone ? -1 : taken.paddedSize(rows);
    Outputs all;
    try {
      all = Outputs.ofSorted(sig.outputNames(), loaded.run(sig, sub, padded, alone));
    } catch (InferenceException e) {
      if (to - from > 1) {
        int mid = (from + to) >>> 1;
        runIsolated(sig, parts, from, mid, alone, taken, loaded, results);
        runIsolated(sig, parts, mid, to, alone, taken, loaded, results);
      } else {
        results[from] = new Failure(e.code(), e.getMessage());
      }
      return;
    }
    if (alone) {
      results[from] = all;
      return;
    }
    String bad = Batcher.notOneRowPerInputRow(all, padded);
    int at = 0;
    for (int i = from; i < to; i++) {
      Part<Pending> p = parts.get(i);
      results[i] = bad != null ? new Failure(ErrorCode.INVALID_INPUT, bad) : all.rows(at, at + p.rows());
      at += p.rows();
    }
  }

  /** The requests a batch completed, and the drain callback when the queue is now closed and empty. */
  private record Settled(List<Outcome<Pending>> outcomes, Runnable idle) {}

  /** Hands each part's result to the batcher (lock held); returns the requests now complete. */
  private Settled settle(Batch<Pending> batch, Object[] results, long computeNanos) {
    List<Outcome<Pending>> out = new ArrayList<>(results == null ? 0 : results.length);
    pool.lock().lock();
    try {
      if (batch != null) {
        if (computeNanos > 0) {
          batcher.ran(computeNanos);
        }
        List<Part<Pending>> parts = batch.parts();
        for (int i = 0; i < parts.size(); i++) {
          Object r = results[i];
          Outcome<Pending> o = r instanceof Outputs ok ? batcher.partDone(parts.get(i), ok)
              : batcher.partFailed(parts.get(i), ((Failure) r).code(), ((Failure) r).message());
          if (o != null) {
            out.add(o);
          }
        }
        running--;
        if (!batcher.isEmpty()) {
          pool.ready(this);
        }
      }
      return new Settled(out, takeIdle());
    } finally {
      pool.lock().unlock();
    }
  }

  /** The drain callback when the queue is closed and has nothing left (lock held); at most once. */
  private Runnable takeIdle() {
    if (closed && onIdle != null && batcher.queuedRequests() == 0 && running == 0) {
      Runnable r = onIdle;
      onIdle = null;
      return r;
    }
    return null;
  }

  /** Answers one request, once, and gives back its reference on the version. */
  private void deliver(Pending p, InferReply reply) {
    try {
      p.reply().accept(reply);
    } catch (Throwable t) {
      log.warn("answering a request for {} failed: {}", model, t.toString());
    } finally {
      p.model().release();
    }
  }

  @Override
  public String toString() {
    return "InferenceQueue[" + model + "#" + replica + "]";
  }
}
