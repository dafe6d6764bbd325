package dev.shardserve.desired;

import java.util.Locale;

/**
 * Where a model's replicas run (Triton's instance-group kind, Ray Serve's {@code num_gpus}):
 * {@link #GPU} only on nodes with role {@code gpu}, its sessions on the node's GPU; {@link #CPU}
 * on any worker, its sessions with no GPU; {@link #ANY} (the default) on any worker, on a GPU
 * where the node has one. Each constant has a stable wire number (never the ordinal).
 */
public enum Device {
  ANY(0),
  CPU(1),
  GPU(2);

  private final int wire;

  Device(int wire) {
    this.wire = wire;
  }

  public int wire() {
    return wire;
  }

  /** The device of a wire number; throws IllegalArgumentException naming an unknown one. */
  public static Device fromWire(int wire) {
    for (Device d : values()) {
      if (d.wire == wire) {
        return d;
      }
    }
    throw new IllegalArgumentException("unknown device number " + wire);
  }

  /** {@code gpu}, {@code cpu} or {@code any} (any case); throws IllegalArgumentException naming the value. */
  public static Device parse(String text) {
    if (text != null) {
      switch (text.trim().toLowerCase(Locale.ROOT)) {
        case "gpu":
          return GPU;
        case "cpu":
          return CPU;
        case "any":
          return ANY;
        default:
          break;
      }
    }
    throw new IllegalArgumentException("device must be gpu, cpu or any, was '" + text + "'");
  }

  /** The name in config files and the admin API: {@code gpu}, {@code cpu}, {@code any}. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
