package dev.shardserve.desired;

import java.util.List;

/**
 * How a model's replicas batch requests (TF Serving's batching parameters, Triton's dynamic
 * batcher). Requests for the same version and signature whose inputs agree in every dimension
 * but the first are concatenated along it, run in one TensorFlow call and split back.
 *
 * @param enabled off: every request runs alone (still queued, bounded and deadline-checked)
 * @param maxBatchSize the most rows one TensorFlow call gets
 * @param maxQueueDelayMicros the longest the oldest request waits for a batch to fill; 0 sends
 *     what is queued as soon as a runtime slot is free (batches then grow only under load)
 * @param maxQueuedRequests requests a replica holds waiting; beyond that it answers OVERLOADED
 * @param allowedBatchSizes if not empty, a batch is padded up to the next of these sizes
 *     (ascending; the last equals {@code maxBatchSize}, as TF Serving requires); padding rows
 *     never reach a client
 * @param parallelBatches batches one replica runs at once; 0 = the node's runtime threads
 * @param splitLargeRequests a request with more rows than {@code maxBatchSize} is split and
 *     re-joined; off: it is refused with a 400
 */
public record BatchingSpec(
    boolean enabled,
    int maxBatchSize,
    long maxQueueDelayMicros,
    int maxQueuedRequests,
    List<Integer> allowedBatchSizes,
    int parallelBatches,
    boolean splitLargeRequests) {

  public static final BatchingSpec DEFAULT = new BatchingSpec(true, 64, 0, 1024, List.of(), 0, true);
  /** What a stateful model runs with: one request at a time, never batched. */
  public static final BatchingSpec SERIAL = new BatchingSpec(false, 1, 0, 1024, List.of(), 1, false);

  public BatchingSpec {
    if (maxBatchSize < 1 || maxBatchSize > 1_000_000) {
      throw new IllegalArgumentException("max-batch-size must be between 1 and 1000000, was " + maxBatchSize);
    }
    if (maxQueueDelayMicros < 0 || maxQueueDelayMicros > 60_000_000L) {
      throw new IllegalArgumentException("max-queue-delay must be between 0 and 60 s, was " + maxQueueDelayMicros
          + " µs");
    }
    if (maxQueuedRequests < 1 || maxQueuedRequests > 1_000_000) {
      throw new IllegalArgumentException("max-queued-requests must be between 1 and 1000000, was "
          + maxQueuedRequests);
    }
    if (parallelBatches < 0 || parallelBatches > 1024) {
      throw new IllegalArgumentException("parallel-batches must be between 0 (auto) and 1024, was "
          + parallelBatches);
    }
    allowedBatchSizes = List.copyOf(allowedBatchSizes);
    int previous = 0;
    for (int size : allowedBatchSizes) {
      if (size <= previous) {
        throw new IllegalArgumentException("allowed-batch-sizes must be ascending and > 0, was " + allowedBatchSizes);
      }
      previous = size;
    }
    if (!allowedBatchSizes.isEmpty() && previous != maxBatchSize) {
      throw new IllegalArgumentException("the last of allowed-batch-sizes " + allowedBatchSizes
          + " must equal max-batch-size " + maxBatchSize);
    }
  }

  /** The size a batch of {@code rows} is padded to ({@code rows} itself without allowed sizes). */
  public int paddedSize(int rows) {
    for (int size : allowedBatchSizes) {
      if (size >= rows) {
        return size;
      }
    }
    return rows;
  }
}
