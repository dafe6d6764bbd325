package dev.shardserve.node.runtime;

import java.util.ArrayList;
import java.util.List;

/**
 * How a node finds its GPUs: TensorFlow's device list ({@link TensorFlowGpuDiscovery}), GPU
 * indices given by the operator ({@code --gpus 0,1}, for hosts where listing is impossible), or
 * none. Tests pass their own lists.
 */
@FunctionalInterface
public interface GpuDiscovery {
  /** The GPUs found, by index; empty when none. Never throws: a failed listing finds none (and logs why). */
  List<GpuDevice> discover();

  /** No GPU. */
  GpuDiscovery NONE = List::of;

  /**
   * The discovery {@code setting} names ({@code shardserve.node.gpus}, {@code --gpus}): {@code auto}
   * (TensorFlow's device list, on a session made with {@code session}'s options), {@code none}, or
   * comma-separated GPU indices. Throws IllegalArgumentException naming a bad value.
   */
  static GpuDiscovery fromSetting(String setting, SessionSettings session) {
    String s = setting == null ? "" : setting.trim();
    if (s.equalsIgnoreCase("auto")) {
      return new TensorFlowGpuDiscovery(session);
    }
    if (s.isEmpty() || s.equalsIgnoreCase("none")) {
      return NONE;
    }
    List<GpuDevice> gpus = new ArrayList<>();
    for (String part : s.split(",")) {
      String p = part.trim();
      if (!p.matches("[0-9]{1,4}")) {
        throw new IllegalArgumentException("gpus must be auto, none or GPU indices such as 0,1 (SHARDSERVE_GPUS, "
            + "--gpus, shardserve.node.gpus), was '" + setting + "'");
      }
      int index = Integer.parseInt(p);
      if (gpus.stream().anyMatch(g -> g.index() == index)) {
        throw new IllegalArgumentException("gpus lists GPU " + index + " twice: '" + setting + "'");
      }
      gpus.add(new GpuDevice(index, "configured:" + index, 0));
    }
    List<GpuDevice> fixed = List.copyOf(gpus);
    return () -> fixed;
  }
}
