package dev.shardserve.node.runtime;

import com.typesafe.config.Config;
import dev.shardserve.desired.Device;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GPUOptions;

/**
 * How a node runs a model version: TensorFlow's session threading and devices, and the node's
 * simulated accelerators. By default every op runs on the calling thread ({@code inter-op = -1},
 * {@code intra-op = 1}): parallelism comes from our own runtime threads, one per core, so
 * TensorFlow never oversubscribes the cores. The inter-op setting and {@code visible-devices} are
 * process-wide in TensorFlow: the first session of a JVM decides them for all (so every session,
 * and the device listing of {@link GpuDiscovery}, is created with the same values).
 *
 * @param gpus the GPUs this node has (discovered or configured); a {@link Device#GPU} model
 *     refuses to load on a node without one
 * @param visibleDevices TensorFlow's {@code gpu_options.visible_device_list} ({@code "0"},
 *     {@code "0,1"}); empty: every GPU the process sees ({@code CUDA_VISIBLE_DEVICES})
 * @param device the device of the model being loaded: {@link Device#CPU} hides the GPUs from its
 *     session ({@code device_count {GPU: 0}})
 * @param simulator the node's simulated accelerators (null: simulated models cannot be loaded)
 */
public record SessionSettings(int intraOpThreads, int interOpThreads, boolean allowSoftPlacement, int gpus,
    String visibleDevices, Device device, Simulator simulator) {
  public SessionSettings {
    if (intraOpThreads < 0) {
      throw new IllegalArgumentException("shardserve.node.tensorflow.intra-op-threads must be >= 0, was "
          + intraOpThreads);
    }
    if (interOpThreads < -1) {
      throw new IllegalArgumentException("shardserve.node.tensorflow.inter-op-threads must be >= -1, was "
          + interOpThreads);
    }
    if (gpus < 0) {
      throw new IllegalArgumentException("gpus must be >= 0, was " + gpus);
    }
    visibleDevices = visibleDevices == null ? "" : visibleDevices.trim();
    if (!visibleDevices.matches("|[0-9]+(,[0-9]+)*")) {
      throw new IllegalArgumentException("shardserve.node.tensorflow.visible-devices must be GPU indices such as "
          + "\"0\" or \"0,1\", or empty, was '" + visibleDevices + "'");
    }
    device = device == null ? Device.ANY : device;
  }

  public SessionSettings(int intraOpThreads, int interOpThreads, boolean allowSoftPlacement) {
    this(intraOpThreads, interOpThreads, allowSoftPlacement, 0, "", Device.ANY, null);
  }

  public static SessionSettings fromConfig(Config c) {
    return new SessionSettings(c.getInt("intra-op-threads"), c.getInt("inter-op-threads"),
        c.getBoolean("allow-soft-placement"), 0, c.getString("visible-devices"), Device.ANY, null);
  }

  public static SessionSettings callingThread() {
    return new SessionSettings(1, -1, true);
  }

  /** With the node's GPU count. */
  public SessionSettings withGpus(int count) {
    return new SessionSettings(intraOpThreads, interOpThreads, allowSoftPlacement, count, visibleDevices, device,
        simulator);
  }

  /** For a model of device {@code d} (its {@code device} setting). */
  public SessionSettings forDevice(Device d) {
    return new SessionSettings(intraOpThreads, interOpThreads, allowSoftPlacement, gpus, visibleDevices, d,
        simulator);
  }

  /** With the node's simulated accelerators. */
  public SessionSettings withSimulator(Simulator s) {
    return new SessionSettings(intraOpThreads, interOpThreads, allowSoftPlacement, gpus, visibleDevices, device, s);
  }

  /** The session options; {@code device} decides whether the session may use a GPU. */
  ConfigProto toProto() {
    ConfigProto.Builder b = ConfigProto.newBuilder()
        .setIntraOpParallelismThreads(intraOpThreads)
        .setInterOpParallelismThreads(interOpThreads)
        // Models exported on GPU machines pin ops to /device:GPU:0; they must still load on CPU.
        .setAllowSoftPlacement(allowSoftPlacement);
    if (!visibleDevices.isEmpty()) {
      b.setGpuOptions(GPUOptions.newBuilder().setVisibleDeviceList(visibleDevices));
    }
    if (device == Device.CPU) {
      b.putDeviceCount("GPU", 0);
    }
    return b.build();
  }
}
