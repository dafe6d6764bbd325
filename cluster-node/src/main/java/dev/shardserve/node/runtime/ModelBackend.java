package dev.shardserve.node.runtime;

import dev.shardserve.protocol.Tensor;
import java.util.List;

/**
 * What computes the batches of one loaded version: a TensorFlow session ({@link TensorFlowBackend})
 * or a simulated accelerator ({@link SimulatedBackend}). {@link LoadedModel} owns it, counts the
 * runs in flight and {@link #free frees} it after the last one.
 */
interface ModelBackend {
  /**
   * Runs a batch and calls {@code done} exactly once: before returning when the backend computes
   * on the calling thread, later otherwise. Throws only for a bug (never for a bad input: that is
   * {@code done}'s failure).
   */
  void start(PreparedSignature sig, List<? extends RowSource> parts, int paddedRows, boolean alone,
      BatchCompletion done);

  /** Runs a batch on the calling thread, waiting for it; throws {@link InferenceException}. */
  Tensor[] run(PreparedSignature sig, List<? extends RowSource> parts, int paddedRows, boolean alone);

  /** The most rows one batch may have ({@link Integer#MAX_VALUE}: no limit of the backend's own). */
  int maxBatchSize();

  /** The most batches worth running at once ({@link Integer#MAX_VALUE}: as many as threads take). */
  int maxBatchesInFlight();

  /** What runs the model, for logs and status: {@code tensorflow} or {@code simulated}. */
  String kind();

  /** Releases the backend's resources; called once, after the last run. */
  void free();
}
