package dev.shardserve.node.runtime;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What a node does with the GPUs it found: with one or more it takes role {@code gpu} (besides
 * {@code worker}) and advertises their count and total memory for placement
 * ({@code shardserve.node.capacity}); GPUs named by index ({@code --gpus 0,1}) also become
 * TensorFlow's {@code visible-devices} for every session of the process, so that one node process
 * per GPU uses just its own.
 */
public record NodeDevices(List<GpuDevice> gpus, boolean configured) {
  public static final String GPU_ROLE = dev.shardserve.sharding.GpuWorkers.ROLE;

  public NodeDevices {
    gpus = List.copyOf(gpus);
  }

  /** Runs {@code discovery}; {@code configured}: the GPUs were named by index, not listed. */
  public static NodeDevices discover(GpuDiscovery discovery, boolean configured) {
    return new NodeDevices(discovery.discover(), configured);
  }

  /** The node's roles: {@code base} plus {@code gpu} when it has a GPU. */
  public List<String> roles(List<String> base) {
    List<String> out = new ArrayList<>(base);
    if (!gpus.isEmpty() && !out.contains(GPU_ROLE)) {
      out.add(GPU_ROLE);
    }
    return out;
  }

  /** Settings to add to {@code shardserve.node} (full keys): the advertised capacity and visible devices. */
  public Map<String, Object> config() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("shardserve.node.capacity.gpus", gpus.size());
    long memory = gpus.stream().mapToLong(GpuDevice::memoryBytes).sum();
    if (!configured || memory > 0) {
      out.put("shardserve.node.capacity.gpu-memory", memory + " B");
    }
    if (configured && !gpus.isEmpty()) {
      out.put("shardserve.node.tensorflow.visible-devices",
          gpus.stream().map(g -> Integer.toString(g.index())).collect(Collectors.joining(",")));
    }
    return out;
  }
}
