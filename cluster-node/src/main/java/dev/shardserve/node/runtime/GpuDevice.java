package dev.shardserve.node.runtime;

/**
 * One GPU of a node, as TensorFlow lists it ({@code /device:GPU:0}) or as configured.
 *
 * @param index the GPU's index among those the process sees
 * @param name TensorFlow's device name, or {@code configured:N}
 * @param memoryBytes memory TensorFlow may use on it; 0 when unknown (configured GPUs)
 */
public record GpuDevice(int index, String name, long memoryBytes) {
  public GpuDevice {
    if (index < 0 || memoryBytes < 0) {
      throw new IllegalArgumentException("a GPU needs index >= 0 and memory >= 0, was " + index + ", " + memoryBytes);
    }
  }
}
