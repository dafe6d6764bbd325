package dev.shardserve.node.runtime;

import static org.tensorflow.internal.c_api.global.tensorflow.TF_CloseSession;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteDeviceList;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteGraph;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteSession;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteSessionOptions;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteStatus;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListCount;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListMemoryBytes;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListName;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListType;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_GetCode;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_Message;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewGraph;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewSession;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewSessionOptions;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewStatus;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_OK;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SessionListDevices;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SetConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.javacpp.BytePointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.TensorFlow;
import org.tensorflow.internal.c_api.TF_DeviceList;
import org.tensorflow.internal.c_api.TF_Graph;
import org.tensorflow.internal.c_api.TF_Session;
import org.tensorflow.internal.c_api.TF_SessionOptions;
import org.tensorflow.internal.c_api.TF_Status;

/**
 * Lists the GPUs TensorFlow sees, through the C API: {@code TF_SessionListDevices} on a throwaway
 * session over an empty graph, created with the same options as the model sessions (the first
 * session of a process fixes the process-wide ones: threads, visible devices). A CPU build of
 * TensorFlow lists no GPU; a GPU build on a host without a driver lists none either (TensorFlow
 * logs why). Any failure finds no GPU and is logged.
 */
final class TensorFlowGpuDiscovery implements GpuDiscovery {
  private static final Logger log = LoggerFactory.getLogger(TensorFlowGpuDiscovery.class);
  private static final Pattern GPU_NAME = Pattern.compile("/device:GPU:(\\d+)$");

  private final SessionSettings session;

  TensorFlowGpuDiscovery(SessionSettings session) {
    this.session = session;
  }

  /** One device as TensorFlow lists it. */
  record Listed(String type, String name, long memoryBytes) {}

  @Override
  public List<GpuDevice> discover() {
    try {
      List<Listed> all = listAll(session);
      List<GpuDevice> out = new ArrayList<>();
      for (Listed d : all) {
        GpuDevice gpu = gpuOf(d.type(), d.name(), d.memoryBytes());
        if (gpu != null) {
          out.add(gpu);
        }
      }
      log.info("TensorFlow lists {} device(s), {} GPU(s): {}", all.size(), out.size(), out);
      return List.copyOf(out);
    } catch (RuntimeException | LinkageError e) {
      log.warn("could not list TensorFlow's devices ({}): this node advertises no GPU; give --gpus to name them",
          e.toString());
      return List.of();
    }
  }

  /** Every device TensorFlow lists for a session made with {@code session}'s options. */
  static List<Listed> listAll(SessionSettings session) {
    TensorFlow.version(); // loads the natives the way model sessions do
    byte[] config = session.toProto().toByteArray();
    TF_Status status = TF_NewStatus();
    TF_Graph graph = TF_NewGraph();
    TF_SessionOptions options = TF_NewSessionOptions();
    TF_Session s = null;
    try (BytePointer bytes = new BytePointer(config)) {
      TF_SetConfig(options, bytes, config.length, status);
      check(status, "session options");
      s = TF_NewSession(graph, options, status);
      check(status, "throwaway session");
      TF_DeviceList devices = TF_SessionListDevices(s, status);
      check(status, "device list");
      try {
        List<Listed> out = new ArrayList<>();
        int n = TF_DeviceListCount(devices);
        for (int i = 0; i < n; i++) {
          String type = TF_DeviceListType(devices, i, status).getString();
          check(status, "device type");
          String name = TF_DeviceListName(devices, i, status).getString();
          check(status, "device name");
          long memory = TF_DeviceListMemoryBytes(devices, i, status);
          check(status, "device memory");
          out.add(new Listed(type, name, memory));
        }
        return out;
      } finally {
        TF_DeleteDeviceList(devices);
      }
    } finally {
      if (s != null) {
        TF_CloseSession(s, status);
        TF_DeleteSession(s, status);
      }
      TF_DeleteSessionOptions(options);
      TF_DeleteGraph(graph);
      TF_DeleteStatus(status);
    }
  }

  /** The GPU a listed device is, or null when it is another kind ({@code CPU}). */
  static GpuDevice gpuOf(String type, String name, long memoryBytes) {
    if (!"GPU".equals(type)) {
      return null;
    }
    Matcher m = GPU_NAME.matcher(name);
    int index = m.find() ? Integer.parseInt(m.group(1)) : 0;
    return new GpuDevice(index, name, Math.max(0, memoryBytes));
  }

  private static void check(TF_Status status, String step) {
    if (TF_GetCode(status) != TF_OK) {
      throw new IllegalStateException(step + ": " + TF_Message(status).getString());
    }
  }
}
