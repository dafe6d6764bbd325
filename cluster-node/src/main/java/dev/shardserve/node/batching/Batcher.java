package dev.shardserve.node.batching;

import dev.shardserve.desired.BatchingSpec;
import dev.shardserve.protocol.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The dynamic batcher of one model replica, as a plain data structure driven by its owner (the
 * model entity) with an injected clock, so that every rule is tested deterministically:
 * <ul>
 *   <li>requests wait in groups of compatible requests (same version, signature, input names,
 *       dtypes and non-batch dimensions): mixed shapes are never batched together;</li>
 *   <li>a group is ready when it holds {@code max-batch-size} rows, when its oldest request has
 *       waited {@code max-queue-delay}, or when its earliest deadline is about to pass (a batch
 *       never waits past the earliest deadline in it);</li>
 *   <li>a batch takes whole requests up to {@code max-batch-size} rows, oldest first, and is
 *       padded to the next of {@code allowed-batch-sizes}; outputs are sliced back per request
 *       and padding rows are dropped;</li>
 *   <li>a request with more rows than {@code max-batch-size} is split into parts that may run in
 *       different batches and is answered once all have run (or refused when splitting is off);</li>
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
  public record Done<H>(H handle, Map<String, Tensor> outputs) implements Outcome<H> {}

  /** A request that failed, and why (the batch's failure, or its deadline). */
  public record Failed<H>(H handle, boolean expired, String reason) implements Outcome<H> {}

  /** A client request; several parts when it was split. */
  private static final class Request<H> {
    final H handle;
    final long deadline;
    final Map<String, Tensor>[] results;
    int remaining;
    boolean ended;

    @SuppressWarnings("unchecked")
    Request(H handle, long deadline, int parts) {
      this.handle = handle;
      this.deadline = deadline;
      this.results = new Map[parts];
      this.remaining = parts;
    }
  }

  private record Part<H>(Request<H> request, int index, Map<String, Tensor> inputs, int rows, long enqueued) {}

  private static final class Group<H> {
    final Object key;
    final ArrayDeque<Part<H>> parts = new ArrayDeque<>();
    int rows;

    Group(Object key) {
      this.key = key;
    }
  }

  /** A batch taken from the queue: its concatenated (padded) inputs and who gets which rows. */
  public static final class Batch<H> {
    private final Object key;
    private final List<Part<H>> parts;
    private final Map<String, Tensor> inputs;
    private final int rows;
    private final int paddedRows;
    private final long oldestEnqueued;

    private Batch(Object key, List<Part<H>> parts, Map<String, Tensor> inputs, int rows, int paddedRows,
        long oldestEnqueued) {
      this.key = key;
      this.parts = parts;
      this.inputs = inputs;
      this.rows = rows;
      this.paddedRows = paddedRows;
      this.oldestEnqueued = oldestEnqueued;
    }

    public Object key() {
      return key;
    }

    public Map<String, Tensor> inputs() {
      return inputs;
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
        out.add(p.request().handle);
      }
      return out;
    }

    public long oldestEnqueuedNanos() {
      return oldestEnqueued;
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

  /** Removes every waiting request (the owner stops); their handles, each once. */
  public List<H> clear() {
    List<H> out = new ArrayList<>();
    for (Group<H> g : groups.values()) {
      for (Part<H> p : g.parts) {
        if (!p.request().ended) {
          p.request().ended = true;
          out.add(p.request().handle);
        }
      }
    }
    groups.clear();
    queuedRequests = 0;
    return out;
  }

  /** Requests waiting (a split request counts once). */
  public int queuedRequests() {
    return queuedRequests;
  }

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
    if (key == null || rows <= max || !spec.enabled()) {
      Request<H> r = new Request<>(handle, deadlineNanos, 1);
      add(key == null || !spec.enabled() ? new Object() : key, new Part<>(r, 0, inputs, rows, clock.getAsLong()));
    } else if (!spec.splitLargeRequests()) {
      return Refusal.TOO_LARGE;
    } else {
      int parts = (rows + max - 1) / max;
      Request<H> r = new Request<>(handle, deadlineNanos, parts);
      long now = clock.getAsLong();
      for (int i = 0; i < parts; i++) {
        int from = i * max;
        int to = Math.min(rows, from + max);
        Map<String, Tensor> slice = new HashMap<>();
        for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
          slice.put(e.getKey(), TensorRows.slice(e.getValue(), from, to));
        }
        add(key, new Part<>(r, i, slice, to - from, now));
      }
    }
    queuedRequests++;
    return null;
  }

  private void add(Object key, Part<H> part) {
    Group<H> g = groups.computeIfAbsent(key, Group::new);
    g.parts.add(part);
    g.rows += part.rows();
  }

  /** Removes every request whose deadline has passed; they are answered as expired and never run. */
  public List<Failed<H>> expire() {
    long now = clock.getAsLong();
    List<Failed<H>> out = new ArrayList<>();
    for (Iterator<Group<H>> gi = groups.values().iterator(); gi.hasNext(); ) {
      Group<H> g = gi.next();
      for (Iterator<Part<H>> pi = g.parts.iterator(); pi.hasNext(); ) {
        Part<H> p = pi.next();
        Request<H> r = p.request();
        if (r.ended || now - r.deadline >= 0) {
          pi.remove();
          g.rows -= p.rows();
          if (!r.ended) {
            r.ended = true;
            queuedRequests--;
            out.add(new Failed<>(r.handle, true, "deadline exceeded while queued"));
          }
        }
      }
      if (g.parts.isEmpty()) {
        gi.remove();
      }
    }
    return out;
  }

  /** When the next group becomes ready (clock nanos), or {@link Long#MAX_VALUE} when nothing waits. */
  public long nextReadyNanos() {
    long next = Long.MAX_VALUE;
    for (Group<H> g : groups.values()) {
      next = Math.min(next, readyNow(g) ? clock.getAsLong() : readyAt(g));
    }
    return next;
  }

  /** Full, or a request that runs alone: ready whatever the time. */
  private boolean readyNow(Group<H> g) {
    return g.rows >= spec.maxBatchSize() || g.key.getClass() == Object.class;
  }

  private long readyAt(Group<H> g) {
    Part<H> oldest = g.parts.peekFirst();
    long byDelay = oldest.enqueued() + spec.maxQueueDelayMicros() * 1000;
    long byDeadline = Long.MAX_VALUE;
    for (Part<H> p : g.parts) {
      byDeadline = Math.min(byDeadline, p.request().deadline - computeEstimate);
    }
    return Math.min(byDelay, byDeadline);
  }

  /**
   * Takes the ready group whose oldest request waited longest, as one batch; null when none is
   * ready. Expired requests should be removed first ({@link #expire}).
   */
  public Batch<H> next() {
    long now = clock.getAsLong();
    while (true) {
      Group<H> best = null;
      for (Group<H> g : groups.values()) {
        if ((readyNow(g) || readyAt(g) - now <= 0) && (best == null
            || g.parts.peekFirst().enqueued() - best.parts.peekFirst().enqueued() < 0)) {
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
      if (p.request().ended) { // another part of a split request failed: this one is not run
        g.parts.pollFirst();
        g.rows -= p.rows();
        continue;
      }
      if (!parts.isEmpty() && (alone || rows + p.rows() > spec.maxBatchSize())) {
        break;
      }
      g.parts.pollFirst();
      g.rows -= p.rows();
      parts.add(p);
      rows += p.rows();
    }
    if (g.parts.isEmpty()) {
      groups.remove(g.key);
    }
    if (parts.isEmpty()) {
      return null;
    }
    int padded = alone ? rows : spec.paddedSize(rows);
    Map<String, Tensor> inputs = new HashMap<>();
    for (String name : parts.get(0).inputs().keySet()) {
      List<Tensor> columns = new ArrayList<>(parts.size());
      for (Part<H> p : parts) {
        columns.add(p.inputs().get(name));
      }
      Tensor t = TensorRows.concat(columns);
      inputs.put(name, padded > rows ? TensorRows.pad(t, padded) : t);
    }
    long oldest = parts.get(0).enqueued();
    return new Batch<>(g.key, parts, inputs, rows, padded, oldest);
  }

  /**
   * Splits a batch's outputs back to its requests (padding dropped). Returns the requests now
   * complete; a split request completes when its last part has. Outputs whose first dimension
   * is not the batch's rows fail the batch.
   */
  public List<Outcome<H>> complete(Batch<H> batch, Map<String, Tensor> outputs, long computeNanos) {
    computeEstimate = computeSampled ? (computeEstimate * 7 + computeNanos) / 8 : computeNanos;
    computeSampled = true;
    boolean alone = batch.key.getClass() == Object.class;
    if (!alone) {
      for (Map.Entry<String, Tensor> e : outputs.entrySet()) {
        Tensor t = e.getValue();
        if (t.rank() == 0 || t.shape()[0] != batch.paddedRows) {
          return fail(batch, "output '" + e.getKey() + "' has shape " + java.util.Arrays.toString(t.shape())
              + ", not one row per input row (" + batch.paddedRows + "): the signature cannot be batched");
        }
      }
    }
    List<Outcome<H>> out = new ArrayList<>();
    int at = 0;
    for (Part<H> p : batch.parts) {
      Map<String, Tensor> mine = new HashMap<>();
      for (Map.Entry<String, Tensor> e : outputs.entrySet()) {
        mine.put(e.getKey(), alone ? e.getValue() : TensorRows.slice(e.getValue(), at, at + p.rows()));
      }
      at += p.rows();
      Request<H> r = p.request();
      if (r.ended) {
        continue;
      }
      r.results[p.index()] = mine;
      if (--r.remaining == 0) {
        r.ended = true;
        queuedRequests--;
        out.add(new Done<>(r.handle, join(r.results)));
      }
    }
    return out;
  }

  /** Fails every request of the batch (and the other parts of split ones, which are dropped). */
  public List<Outcome<H>> fail(Batch<H> batch, String reason) {
    List<Outcome<H>> out = new ArrayList<>();
    for (Part<H> p : batch.parts) {
      Request<H> r = p.request();
      if (!r.ended) {
        r.ended = true;
        queuedRequests--;
        out.add(new Failed<>(r.handle, false, reason));
      }
    }
    return out;
  }

  private static Map<String, Tensor> join(Map<String, Tensor>[] parts) {
    if (parts.length == 1) {
      return parts[0];
    }
    Map<String, Tensor> out = new HashMap<>();
    for (String name : parts[0].keySet()) {
      List<Tensor> columns = new ArrayList<>(parts.length);
      for (Map<String, Tensor> p : parts) {
        columns.add(p.get(name));
      }
      out.put(name, TensorRows.concat(columns));
    }
    return out;
  }
}
