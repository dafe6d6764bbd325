package dev.shardserve.node.batch;

import dev.shardserve.desired.BatchingSpec;
import dev.shardserve.node.runtime.RowSource;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.Outputs;
import dev.shardserve.protocol.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The dynamic batcher of one model replica, as a plain data structure with an injected clock, so
 * that every rule is tested deterministically. Not thread-safe: its owner ({@link InferenceQueue})
 * calls it under the runtime pool's lock.
 * <ul>
 *   <li>requests wait in groups of compatible requests (same version, signature, input names,
 *       dtypes and non-batch dimensions): mixed shapes are never batched together;</li>
 *   <li>a group is ready when it holds {@code max-batch-size} rows, when its oldest request has
 *       waited {@code max-queue-delay}, or when its earliest deadline is about to pass (a batch
 *       never waits past the earliest deadline in it);</li>
 *   <li>a batch takes whole requests up to {@code max-batch-size} rows, oldest first, and is
 *       padded to the next of {@code allowed-batch-sizes}; each request gets a view of its own rows
 *       of the outputs, and padding rows are dropped;</li>
 *   <li>a request with more rows than {@code max-batch-size} is split into parts (row ranges of
 *       the same tensors: nothing is copied) that may run in different batches, and is answered
 *       once all have run (or refused when splitting is off);</li>
 *   <li>at most {@code max-queued-requests} requests wait: one more is refused at once;</li>
 *   <li>a request whose deadline has passed is removed before it costs compute.</li>
 * </ul>
 * A request that cannot be batched (no batch dimension) travels as a group of its own. Group
 * keys are values with {@code equals} (records), never plain {@code Object}s.
 *
 * @param <H> the owner's handle for answering a request
 */
public final class Batcher<H> {

  /** Why an offer was refused. */
  public enum Refusal {
    FULL,
    TOO_LARGE
  }

  /** How a request ended. */
  public sealed interface Outcome<H> permits Done, Failed {
    H handle();
  }

  /** A request answered with the outputs of its rows. */
  public record Done<H>(H handle, Outputs outputs) implements Outcome<H> {}

  /** A request that failed, and why (its batch's error, or its deadline when {@code expired}). */
  public record Failed<H>(H handle, boolean expired, ErrorCode code, String reason) implements Outcome<H> {}

  /** A client request; several parts when it was split. */
  private static final class Request<H> {
    final H handle;
    final long deadline;
    final Outputs[] results;
    int remaining;
    boolean ended;

    Request(H handle, long deadline, int parts) {
      this.handle = handle;
      this.deadline = deadline;
      this.results = new Outputs[parts];
      this.remaining = parts;
    }
  }

  /**
   * Rows {@code [fromRow, fromRow + rows)} of a request's inputs (all of them when the request
   * runs alone: {@code rows} is then its first dimension or 0 for a scalar).
   */
  public static final class Part<H> implements RowSource {
    private final Request<H> request;
    private final int index;
    private final Map<String, Tensor> inputs;
    private final int fromRow;
    private final int rows;
    private final long enqueued;

    private Part(Request<H> request, int index, Map<String, Tensor> inputs, int fromRow, int rows, long enqueued) {
      this.request = request;
      this.index = index;
      this.inputs = inputs;
      this.fromRow = fromRow;
      this.rows = rows;
      this.enqueued = enqueued;
    }

    public H handle() {
      return request.handle;
    }

    /** The request's whole input tensors (a split part uses its row range of them). */
    @Override
    public Map<String, Tensor> inputs() {
      return inputs;
    }

    @Override
    public int fromRow() {
      return fromRow;
    }

    @Override
    public int rows() {
      return rows;
    }

    /** True when the part covers every row of its request's inputs. */
    public boolean whole() {
      return request.results.length == 1;
    }

    public long enqueuedNanos() {
      return enqueued;
    }
  }

  private static final class Group<H> {
    final Object key;
    final ArrayDeque<Part<H>> parts = new ArrayDeque<>();
    int rows;

    Group(Object key) {
      this.key = key;
    }
  }

  /** A batch taken from the queue: its parts in row order, and its size with padding. */
  public static final class Batch<H> {
    private final Object key;
    private final List<Part<H>> parts;
    private final int rows;
    private final int paddedRows;
    private final boolean alone;

    private Batch(Object key, List<Part<H>> parts, int rows, int paddedRows, boolean alone) {
      this.key = key;
      this.parts = parts;
      this.rows = rows;
      this.paddedRows = paddedRows;
      this.alone = alone;
    }

    public Object key() {
      return key;
    }

    public List<Part<H>> parts() {
      return parts;
    }

    /** True for a request that cannot be batched: it runs on its whole inputs, as they are. */
    public boolean alone() {
      return alone;
    }

    /** Rows that belong to requests. */
    public int rows() {
      return rows;
    }

    /** Rows TensorFlow runs, padding included. */
    public int paddedRows() {
      return paddedRows;
    }

    public int requests() {
      return parts.size();
    }

    /** The handles of the requests (or parts of requests) in this batch, in row order. */
    public List<H> handles() {
      List<H> out = new ArrayList<>(parts.size());
      for (Part<H> p : parts) {
        out.add(p.request.handle);
      }
      return out;
    }

    public long oldestEnqueuedNanos() {
      return parts.get(0).enqueued;
    }

    /**
     * The batch's inputs as heap tensors: concatenated, padded by repeating the last row. The
     * runtime writes rows straight into TensorFlow's tensors instead; this is for tests and tools.
     */
    public Map<String, Tensor> inputs() {
      if (alone) {
        return parts.get(0).inputs;
      }
      Map<String, Tensor> out = new HashMap<>();
      for (String name : parts.get(0).inputs.keySet()) {
        List<Tensor> columns = new ArrayList<>(parts.size());
        for (Part<H> p : parts) {
          columns.add(TensorRows.slice(p.inputs.get(name), p.fromRow, p.fromRow + p.rows));
        }
        Tensor t = TensorRows.concat(columns);
        out.put(name, paddedRows > rows ? TensorRows.pad(t, paddedRows) : t);
      }
      return out;
    }
  }

  private BatchingSpec spec;
  private final LongSupplier clock;
  private final LinkedHashMap<Object, Group<H>> groups = new LinkedHashMap<>();
  private int queuedRequests;
  /**
   * Smoothed compute time of a batch: a batch is sent this long before its earliest deadline
   * (1 ms until the first batch has run).
   */
  private long computeEstimate = 1_000_000L;
  private boolean computeSampled;

  public Batcher(BatchingSpec spec, LongSupplier clock) {
    this.spec = spec;
    this.clock = clock;
  }

  public BatchingSpec spec() {
    return spec;
  }

  /** New settings apply to requests offered and batches taken from now on; nothing queued is lost. */
  public void spec(BatchingSpec newSpec) {
    this.spec = newSpec;
  }

  /** The smoothed compute time of a batch, in nanoseconds. */
  public long computeEstimateNanos() {
    return computeEstimate;
  }

  /** Removes every waiting request (the owner stops); their handles, each once. */
  public List<H> clear() {
    List<H> out = new ArrayList<>();
    for (Group<H> g : groups.values()) {
      for (Part<H> p : g.parts) {
        if (!p.request.ended) {
          p.request.ended = true;
          out.add(p.request.handle);
        }
      }
    }
    groups.clear();
    queuedRequests = 0;
    return out;
  }

  /** Requests waiting or running (a split request counts once, until its last part has run). */
  public int queuedRequests() {
    return queuedRequests;
  }

  /** True when no part waits to be taken. */
  public boolean isEmpty() {
    return groups.isEmpty();
  }

  /**
   * Queues a request. {@code key} names its group (null: it cannot be batched and waits alone);
   * {@code rows} is its first dimension. Null when accepted, else why not.
   */
  public Refusal offer(H handle, Object key, Map<String, Tensor> inputs, int rows, long deadlineNanos) {
    if (queuedRequests >= spec.maxQueuedRequests()) {
      return Refusal.FULL;
    }
    int max = spec.maxBatchSize();
    long now = clock.getAsLong();
    if (key == null || rows <= max || !spec.enabled()) {
      Request<H> r = new Request<>(handle, deadlineNanos, 1);
      add(key == null || !spec.enabled() ? new Object() : key, new Part<>(r, 0, inputs, 0, rows, now));
    } else if (!spec.splitLargeRequests()) {
      return Refusal.TOO_LARGE;
    } else {
      int parts = (rows + max - 1) / max;
      Request<H> r = new Request<>(handle, deadlineNanos, parts);
      for (int i = 0; i < parts; i++) {
        int from = i * max;
        add(key, new Part<>(r, i, inputs, from, Math.min(rows, from + max) - from, now));
      }
    }
    queuedRequests++;
    return null;
  }

  private void add(Object key, Part<H> part) {
    Group<H> g = groups.computeIfAbsent(key, Group::new);
    g.parts.add(part);
    g.rows += part.rows;
  }

  /** Removes every request whose deadline has passed; they are answered as expired and never run. */
  public List<Failed<H>> expire() {
    if (groups.isEmpty()) {
      return List.of();
    }
    long now = clock.getAsLong();
    List<Failed<H>> out = null;
    for (Iterator<Group<H>> gi = groups.values().iterator(); gi.hasNext(); ) {
      Group<H> g = gi.next();
      for (Iterator<Part<H>> pi = g.parts.iterator(); pi.hasNext(); ) {
        Part<H> p = pi.next();
        Request<H> r = p.request;
        if (r.ended || now - r.deadline >= 0) {
          pi.remove();
          g.rows -= p.rows;
          if (!r.ended) {
            r.ended = true;
            queuedRequests--;
            if (out == null) {
              out = new ArrayList<>();
            }
            out.add(new Failed<>(r.handle, true, ErrorCode.DEADLINE_EXCEEDED, "deadline exceeded while queued"));
          }
        }
      }
      if (g.parts.isEmpty()) {
        gi.remove();
      }
    }
    return out == null ? List.of() : out;
  }

  /** When the next group becomes ready (clock nanos), or {@link Long#MAX_VALUE} when nothing waits. */
  public long nextReadyNanos() {
    return nextReadyNanos(clock.getAsLong());
  }

  /** As {@link #nextReadyNanos()}, with the time now given: a group ready now answers {@code nowNanos}. */
  public long nextReadyNanos(long nowNanos) {
    long next = Long.MAX_VALUE;
    for (Group<H> g : groups.values()) {
      if (readyNow(g)) {
        return nowNanos;
      }
      next = Math.min(next, readyAt(g));
    }
    return next;
  }

  /** Full, or a request that runs alone: ready whatever the time. */
  private boolean readyNow(Group<H> g) {
    return g.rows >= spec.maxBatchSize() || g.key.getClass() == Object.class || spec.maxQueueDelayMicros() == 0;
  }

  private long readyAt(Group<H> g) {
    Part<H> oldest = g.parts.peekFirst();
    long byDelay = oldest.enqueued + spec.maxQueueDelayMicros() * 1000;
    long byDeadline = Long.MAX_VALUE;
    for (Part<H> p : g.parts) {
      byDeadline = Math.min(byDeadline, p.request.deadline - computeEstimate);
    }
    return Math.min(byDelay, byDeadline);
  }

  /**
   * Takes the ready group whose oldest request waited longest, as one batch; null when none is
   * ready. Expired requests should be removed first ({@link #expire}).
   */
  public Batch<H> next() {
    if (groups.isEmpty()) {
      return null;
    }
    long now = clock.getAsLong();
    while (true) {
      Group<H> best = null;
      for (Group<H> g : groups.values()) {
        if ((readyNow(g) || readyAt(g) - now <= 0) && (best == null
            || g.parts.peekFirst().enqueued - best.parts.peekFirst().enqueued < 0)) {
          best = g;
        }
      }
      if (best == null) {
        return null;
      }
      Batch<H> b = take(best);
      if (b != null) {
        return b;
      }
    }
  }

  private Batch<H> take(Group<H> g) {
    List<Part<H>> parts = new ArrayList<>();
    int rows = 0;
    boolean alone = g.key.getClass() == Object.class;
    while (!g.parts.isEmpty()) {
      Part<H> p = g.parts.peekFirst();
      if (p.request.ended) { // another part of a split request failed: this one is not run
        g.parts.pollFirst();
        g.rows -= p.rows;
        continue;
      }
      if (!parts.isEmpty() && (alone || rows + p.rows > spec.maxBatchSize())) {
        break;
      }
      g.parts.pollFirst();
      g.rows -= p.rows;
      parts.add(p);
      rows += p.rows;
    }
    if (g.parts.isEmpty()) {
      groups.remove(g.key);
    }
    if (parts.isEmpty()) {
      return null;
    }
    int padded = alone ? rows : spec.paddedSize(rows);
    return new Batch<>(g.key, parts, rows, padded, alone);
  }

  /** A batch ran in {@code computeNanos}: batches leave that much before their earliest deadline. */
  public void ran(long computeNanos) {
    computeEstimate = computeSampled ? (computeEstimate * 7 + computeNanos) / 8 : computeNanos;
    computeSampled = true;
  }

  /**
   * Splits a batch's outputs back to its requests (padding dropped). Returns the requests now
   * complete; a split request completes when its last part has. Outputs whose first dimension
   * is not the batch's rows fail the batch.
   */
  public List<Outcome<H>> complete(Batch<H> batch, Map<String, Tensor> outputs, long computeNanos) {
    ran(computeNanos);
    Outputs all = Outputs.of(outputs);
    String bad = batch.alone ? null : notOneRowPerInputRow(all, batch.paddedRows);
    if (bad != null) {
      return fail(batch, ErrorCode.INVALID_INPUT, bad);
    }
    List<Outcome<H>> out = new ArrayList<>();
    int at = 0;
    for (Part<H> p : batch.parts) {
      Outcome<H> o = partDone(p, batch.alone ? all : all.rows(at, at + p.rows));
      at += p.rows;
      if (o != null) {
        out.add(o);
      }
    }
    return out;
  }

  /**
   * Null when every output has one row per row the batch ran ({@code paddedRows}), else why not:
   * a signature whose outputs do not follow its inputs' rows cannot be batched.
   */
  public static String notOneRowPerInputRow(Outputs outputs, int paddedRows) {
    for (int i = 0; i < outputs.size(); i++) {
      long[] s = outputs.shape(i);
      if (s.length == 0 || s[0] != paddedRows) {
        return "output '" + outputs.name(i) + "' has shape " + Arrays.toString(s) + ", not one row per input row ("
            + paddedRows + "): the signature cannot be batched";
      }
    }
    return null;
  }

  /**
   * One part ran and these are its rows of the outputs. The request's outcome when it is now
   * complete, else null (other parts still to run, or the request already ended).
   */
  public Outcome<H> partDone(Part<H> p, Outputs outputs) {
    Request<H> r = p.request;
    if (r.ended) {
      return null;
    }
    r.results[p.index] = outputs;
    if (--r.remaining > 0) {
      return null;
    }
    r.ended = true;
    queuedRequests--;
    if (r.results.length == 1) {
      return new Done<>(r.handle, outputs);
    }
    try {
      return new Done<>(r.handle, join(r.results));
    } catch (IllegalArgumentException e) {
      return new Failed<>(r.handle, false, ErrorCode.INVALID_INPUT, e.getMessage());
    }
  }

  /** One part failed: its request fails (once; its other parts are dropped, not run). Null if it had ended. */
  public Outcome<H> partFailed(Part<H> p, ErrorCode code, String reason) {
    Request<H> r = p.request;
    if (r.ended) {
      return null;
    }
    r.ended = true;
    queuedRequests--;
    return new Failed<>(r.handle, false, code, reason);
  }

  /** Fails every request of the batch (and the other parts of split ones, which are dropped). */
  public List<Outcome<H>> fail(Batch<H> batch, ErrorCode code, String reason) {
    List<Outcome<H>> out = new ArrayList<>();
    for (Part<H> p : batch.parts) {
      Outcome<H> o = partFailed(p, code, reason);
      if (o != null) {
        out.add(o);
      }
    }
    return out;
  }

  public List<Outcome<H>> fail(Batch<H> batch, String reason) {
    return fail(batch, ErrorCode.INTERNAL, reason);
  }

  /**
   * Re-joins the outputs of a split request's parts along the first dimension. Parts whose
   * outputs disagree in dtype or inner dimensions (an output shaped by the batch, not by the
   * request) cannot be re-joined: {@link IllegalArgumentException} says which.
   */
  static Outputs join(Outputs[] parts) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    Outputs first = parts[0];
    for (int i = 0; i < first.size(); i++) {
      String name = first.name(i);
      List<Tensor> columns = new ArrayList<>(parts.length);
      for (Outputs p : parts) {
        int k = p.indexOf(name);
        Tensor t = k < 0 ? null : p.tensor(k);
        if (t == null || t.rank() == 0 || t.dtype() != first.dtype(i)
            || !TensorRows.innerKey(t).equals(TensorRows.innerKey(columns.isEmpty() ? t : columns.get(0)))) {
          throw new IllegalArgumentException("output '" + name + "' cannot be re-joined across the parts of a split "
              + "request (its shape depends on the batch: " + (t == null ? "missing" : Arrays.toString(t.shape()))
              + "); send at most max-batch-size rows per request, or turn split-large-requests off");
        }
        columns.add(t);
      }
      out.put(name, TensorRows.concat(columns));
    }
    return Outputs.of(out);
  }
}
