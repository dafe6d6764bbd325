package dev.shardserve.node.runtime;

import dev.shardserve.protocol.Tensor;

/**
 * Receives the end of one batch run started with {@link LoadedModel#start}: the outputs in the
 * signature's output order, or the failure (exactly one of them is non-null). Called exactly
 * once: on the calling thread before {@code start} returns (TensorFlow), or later on a runtime
 * thread (a simulated accelerator).
 */
@FunctionalInterface
public interface BatchCompletion {
  void completed(Tensor[] outputs, InferenceException failure);
}
