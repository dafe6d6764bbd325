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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queue of one replica incarnation on the data plane: requests wait in its {@link Batcher};
 * a runtime thread of the node's {@link RuntimePool} takes a batch, writes the rows straight into
 * TensorFlow's input tensors, runs it and answers each request itself (its {@code reply} runs on
 * that thread: the gateway encodes the answer there). A simulated accelerator's batch is handed
 * to its device instead ({@link LoadedModel#start}): the thread is free at once, and the answers
 * go out on a runtime thread when the device ends the batch. The batcher's {@code max-batch-size}
 * is the smaller of the model's and its version's own ({@link LoadedModel#maxBatchSize}), and at
 * most {@link LoadedModel#maxBatchesInFlight} batches run at once. State is guarded by the pool's
 * lock.
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
  /** The version whose limits apply (the one last offered), or null; guarded by the pool's lock. */
  private LoadedModel limitsOf;
  private int versionMaxBatchSize = Integer.MAX_VALUE;
  private int versionMaxInFlight = Integer.MAX_VALUE;
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
      batcher.spec(capped(newSpec, versionMaxBatchSize));
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
      if (p.model() != limitsOf) {
        limits(p.model());
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
    int max = Math.min(spec.maxBatchSize(), p.model().maxBatchSize());
    return new Failure(ErrorCode.INVALID_INPUT, "the request has " + rows + " rows, more than " + model
        + "'s max-batch-size of " + max + ", and split-large-requests is off");
  }

  /** The limits of the version requests go to now (lock held): its batch size and batches in flight. */
  private void limits(LoadedModel m) {
    limitsOf = m;
    versionMaxInFlight = Math.max(1, m.maxBatchesInFlight());
    if (m.maxBatchSize() != versionMaxBatchSize) {
      versionMaxBatchSize = m.maxBatchSize();
      batcher.spec(capped(spec, versionMaxBatchSize));
    }
  }

  /** {@code s} with at most {@code max} rows per batch (allowed batch sizes above it dropped, {@code max} added). */
  static BatchingSpec capped(BatchingSpec s, int max) {
    if (s.maxBatchSize() <= max) {
      return s;
    }
    List<Integer> allowed = new ArrayList<>();
    for (int size : s.allowedBatchSizes()) {
      if (size < max) {
        allowed.add(size);
      }
    }
    if (!s.allowedBatchSizes().isEmpty()) {
      allowed.add(max);
    }
    return new BatchingSpec(s.enabled(), max, s.maxQueueDelayMicros(), s.maxQueuedRequests(), allowed,
        s.parallelBatches(), s.splitLargeRequests());
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
    return Math.min(p > 0 ? p : pool.threads(), versionMaxInFlight);
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
    BatchingSpec taken = batcher.spec();
    return () -> execute(expired, batch, taken);
  }

  // ---- a runtime thread, without the lock ----

  private void execute(List<Failed<Pending>> expired, Batch<Pending> batch, BatchingSpec taken) {
    for (Failed<Pending> f : expired) {
      metrics.refused(RefusalReason.DEADLINE);
      deliver(f.handle(), new Failure(ErrorCode.DEADLINE_EXCEEDED, "deadline exceeded while queued for " + model));
    }
    if (batch == null) {
      Runnable idle = settle(null, null, 0).idle();
      if (idle != null) {
        idle.run(); // the drain completes after its last answers
      }
      return;
    }
    new Run(batch, taken).start();
  }

  /**
   * One batch from its start to its answers. TensorFlow runs it on this thread; a simulated device
   * ends it later, on another runtime thread. {@link #finish} runs exactly once, whatever happens
   * (a result for every part, an exception, an {@code Error}), and answers every request of it.
   */
  private final class Run {
    final Batch<Pending> batch;
    final BatchingSpec taken;
    /** Each part's {@link Outputs} or {@link Failure}; written before {@link #finish} reads them. */
    final Object[] results;
    final AtomicBoolean finished = new AtomicBoolean();
    long startNanos;
    LoadedModel loaded;
    boolean crashed;

    Run(Batch<Pending> batch, BatchingSpec taken) {
      this.batch = batch;
      this.taken = taken;
      this.results = new Object[batch.parts().size()];
    }

    void start() {
      try {
        startNanos = ticker.nanos();
        for (Part<Pending> p : batch.parts()) {
          metrics.queueWaited(Math.max(0, startNanos - p.enqueuedNanos()));
        }
        Pending first = batch.parts().get(0).handle();
        LoadedModel m = first.model();
        if (!m.acquire()) { // cannot happen while its requests hold references; never run a freed session
          for (int i = 0; i < results.length; i++) {
            results[i] = new Failure(ErrorCode.UNAVAILABLE, model + " version " + m.version() + " was unloaded");
          }
          finish();
          return;
        }
        loaded = m;
        if (first.call() instanceof InferCall.Examples e) {
          try {
            results[0] = Outputs.of(loaded.runExamples(e.signatureName(), e.method(), e.examples(), e.context()));
          } catch (InferenceException ex) {
            results[0] = new Failure(ex.code(), ex.getMessage());
          }
          finish();
          return;
        }
        runIsolated(first.signature(), 0, results.length, this::finish);
      } catch (Throwable t) {
        crash(t);
      }
    }

    /**
     * Runs parts {@code [from, to)} together, then {@code then}; when the model refuses them and
     * there is more than one, runs each half on its own, so that only the requests that make it
     * fail get an error.
     */
    void runIsolated(PreparedSignature sig, int from, int to, Runnable then) {
      List<Part<Pending>> parts = batch.parts();
      List<Part<Pending>> sub = parts.subList(from, to);
      int rows = 0;
      for (Part<Pending> p : sub) {
        rows += p.rows();
      }
      boolean alone = batch.alone();
      int padded = alone ? -1 : taken.paddedSize(rows);
      loaded.start(sig, sub, padded, alone, (out, failure) -> {
        try {
          if (failure != null) {
            if (to - from > 1) {
              int mid = (from + to) >>> 1;
              runIsolated(sig, from, mid, () -> runIsolated(sig, mid, to, then));
              return;
            }
            results[from] = new Failure(failure.code(), failure.getMessage());
          } else {
            Outputs all = Outputs.ofSorted(sig.outputNames(), out);
            if (alone) {
              results[from] = all;
            } else {
              String bad = Batcher.notOneRowPerInputRow(all, padded);
              int at = 0;
              for (int i = from; i < to; i++) {
                Part<Pending> p = parts.get(i);
                results[i] = bad != null ? new Failure(ErrorCode.INVALID_INPUT, bad) : all.rows(at, at + p.rows());
                at += p.rows();
              }
            }
          }
          then.run();
        } catch (Throwable t) {
          crash(t);
        }
      });
    }

    /** An Error (or a bug) must not leave a request unanswered or a version referenced forever. */
    void crash(Throwable t) {
      if (finished.get()) {
        log.error("a batch of {} failed unexpectedly after it was answered", model, t);
        return;
      }
      log.error("a batch of {} failed unexpectedly", model, t);
      crashed = true;
      String message = "internal error running " + model + ": " + t;
      for (int i = 0; i < results.length; i++) {
        if (results[i] == null) {
          results[i] = new Failure(ErrorCode.INTERNAL, message);
        }
      }
      finish();
    }

    /** Records the batch, gives the version back, answers every request; once. */
    void finish() {
      if (!finished.compareAndSet(false, true)) {
        return;
      }
      long computeNanos = 0;
      Settled settled = null;
      try {
        if (loaded != null) {
          computeNanos = ticker.nanos() - startNanos;
          loaded.release();
          if (!crashed) {
            metrics.batchRan(Math.max(1, batch.rows()),
                batch.alone() ? 0 : Math.max(0, batch.paddedRows() - batch.rows()), computeNanos);
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
