package dev.shardserve.node.runtime;

import dev.shardserve.protocol.Tensor;
import java.util.Map;

/**
 * Rows of one request that a batch runs: its validated inputs by alias, and which rows of them
 * ({@code [fromRow, fromRow + rows)}); the runtime copies exactly those rows into TensorFlow's
 * input tensors.
 */
public interface RowSource {
  Map<String, Tensor> inputs();

  int fromRow();

  int rows();
}
