package dev.shardserve.node.entity;

import dev.shardserve.concurrent.Ticker;
import dev.shardserve.dataplane.InferCall;
import dev.shardserve.dataplane.ReplicaHandle;
import dev.shardserve.node.batch.InferenceQueue;
import dev.shardserve.node.batch.TensorRows;
import dev.shardserve.node.runtime.InferenceException;
import dev.shardserve.node.runtime.LoadedModel;
import dev.shardserve.node.runtime.PreparedSignature;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.InferReply;
import dev.shardserve.protocol.Tensor;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data-plane side of one replica incarnation: the {@link ReplicaHandle} the request path
 * submits into. It resolves the request's version against the {@link VersionTable} the replica
 * actor last published (one volatile read), takes a reference on that version, checks the inputs
 * against the prepared signature on the calling thread (a bad request fails alone, at once), and
 * queues it in the replica's {@link InferenceQueue}. A request for a version still on its way is
 * handed to the actor, which holds it until the version is ready. After {@link #close} every
 * submit is refused UNAVAILABLE (retriable: another replica may take it).
 */
final class LocalReplica implements ReplicaHandle {
  private static final Logger log = LoggerFactory.getLogger(LocalReplica.class);

  /** Requests that may share a batch: same version, signature, and inputs' dtypes and inner dimensions. */
  private record GroupKey(long version, String signature, String inputs) {}

  private final String model;
  private final InferenceQueue queue;
  private final Ticker ticker;
  private final BiConsumer<InferCall, Consumer<InferReply>> waiter;
  private final long maxExamplesBytes;
  private volatile VersionTable table;
  private volatile String closedReason;

  /**
   * @param waiter takes requests for a version that is still on its way (the replica actor)
   */
  LocalReplica(String model, InferenceQueue queue, Ticker ticker, long maxExamplesBytes,
      BiConsumer<InferCall, Consumer<InferReply>> waiter) {
    this.model = model;
    this.queue = queue;
    this.ticker = ticker;
    this.maxExamplesBytes = maxExamplesBytes;
    this.waiter = waiter;
    this.table = VersionTable.waiting(model);
  }

  /** Publishes what the replica serves now (the actor, on every change). */
  void publish(VersionTable t) {
    table = t;
  }

  VersionTable table() {
    return table;
  }

  /** Refuses every submit from now on with {@code reason}. */
  void close(String reason) {
    closedReason = reason;
  }

  InferenceQueue queue() {
    return queue;
  }

  @Override
  public Map<String, DType> inputTypes(String signature) {
    VersionTable t = table;
    LoadedModel m = t.latest() >= 0 ? t.available().get(t.latest()) : null;
    PreparedSignature sig = m == null ? null : m.preparedOrNull(signature);
    return sig == null ? null : sig.inputTypes();
  }

  @Override
  public void submit(InferCall call, Consumer<InferReply> reply) {
    try {
      Failure refused = trySubmit(call, reply);
      if (refused != null) {
        reply.accept(refused);
      }
    } catch (RuntimeException e) {
      // trySubmit answers nothing when it throws: this is the one answer.
      log.warn("submitting a request to {} failed: {}", model, e.toString());
      reply.accept(new Failure(ErrorCode.INTERNAL, "internal error: " + e.getMessage()));
    }
  }

  /** Null when the request was queued or handed to the actor; otherwise its answer. */
  private Failure trySubmit(InferCall call, Consumer<InferReply> reply) {
    if (closedReason != null) {
      return new Failure(ErrorCode.UNAVAILABLE, closedReason);
    }
    if (ticker.nanos() - call.deadlineNanos() >= 0) {
      queue.metrics().refused(dev.shardserve.metrics.RefusalReason.DEADLINE);
      return new Failure(ErrorCode.DEADLINE_EXCEEDED, "deadline exceeded before " + model + " could run it");
    }
    for (int attempt = 0; ; attempt++) {
      VersionTable t = table;
      Object r = t.resolve(call.version());
      if (r == VersionTable.WAIT) {
        waiter.accept(call, reply);
        return null;
      }
      if (r instanceof Failure f) {
        return f;
      }
      LoadedModel loaded = (LoadedModel) r;
      if (!loaded.acquire()) {
        if (attempt < 3 && table != t) {
          continue; // swapped meanwhile: the new table names what serves now
        }
        return new Failure(ErrorCode.UNAVAILABLE, model + " version " + loaded.version() + " was just unloaded");
      }
      Failure f;
      try {
        f = enqueue(call, loaded, reply);
      } catch (InferenceException e) {
        f = new Failure(e.code(), e.getMessage());
      } catch (RuntimeException e) {
        loaded.release();
        throw e;
      }
      if (f != null) {
        loaded.release();
      }
      return f;
    }
  }

  private Failure enqueue(InferCall call, LoadedModel loaded, Consumer<InferReply> reply) {
    long now = ticker.nanos();
    if (call instanceof InferCall.Examples e) {
      long bytes = LoadedModel.expandedExamplesBytes(e.examples(), e.context());
      if (bytes > maxExamplesBytes) {
        return new Failure(ErrorCode.INVALID_INPUT, "the request's " + e.examples().size() + " examples expand to "
            + bytes + " bytes of tf.Example (each with the context merged in), more than the limit of "
            + maxExamplesBytes + " bytes (shardserve.node.max-examples-bytes)");
      }
      return queue.offer(new InferenceQueue.Pending(call, loaded, null, reply, now), null, Map.of(), 1);
    }
    InferCall.Predict p = (InferCall.Predict) call;
    PreparedSignature sig = loaded.prepared(p.signatureName());
    Map<String, Tensor> inputs = sig.bind(p.inputs()); // each request checked alone
    int rows = commonRows(inputs);
    Object key = null;
    if (rows > 0 && queue.spec().enabled() && sig.batchable()) {
      key = new GroupKey(loaded.version(), sig.key(), shapes(inputs));
    }
    return queue.offer(new InferenceQueue.Pending(call, loaded, sig, reply, now), key, inputs, key == null ? 1 : rows);
  }

  private static String shapes(Map<String, Tensor> inputs) {
    if (inputs.size() == 1) {
      return TensorRows.innerKey(inputs.values().iterator().next());
    }
    StringBuilder b = new StringBuilder();
    for (Map.Entry<String, Tensor> e : inputs.entrySet()) { // alias order (bind returns them so)
      b.append(e.getKey()).append('=').append(TensorRows.innerKey(e.getValue())).append(';');
    }
    return b.toString();
  }

  /** The first dimension all inputs share, or -1 (a scalar, or inputs that disagree). */
  private static int commonRows(Map<String, Tensor> inputs) {
    int rows = -1;
    for (Tensor t : inputs.values()) {
      if (t.rank() == 0 || (rows >= 0 && t.shape()[0] != rows) || t.shape()[0] < 1) {
        return -1;
      }
      rows = (int) t.shape()[0];
    }
    return rows;
  }
}
