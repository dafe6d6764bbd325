package dev.shardserve.node.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** GPU discovery and what a node makes of it, with fake device lists (no GPU on this machine). */
class GpuDiscoveryTest {
  static final long GIB = 1L << 30;

  @Test
  void settings_autoListsWithTensorFlow_noneFindsNothing_indicesAreConfigured() {
    SessionSettings s = SessionSettings.callingThread();
    assertInstanceOf(TensorFlowGpuDiscovery.class, GpuDiscovery.fromSetting("auto", s));
    assertEquals(List.of(), GpuDiscovery.fromSetting("none", s).discover());
    assertEquals(List.of(), GpuDiscovery.fromSetting(" ", s).discover());
    assertEquals(List.of(new GpuDevice(0, "configured:0", 0), new GpuDevice(3, "configured:3", 0)),
        GpuDiscovery.fromSetting("0, 3", s).discover());
    for (String bad : List.of("gpu0", "0;1", "-1", "1,1")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> GpuDiscovery.fromSetting(bad, s), bad);
      assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
    }
  }

  @Test
  void tensorFlowsDeviceList_onThisCpuOnlyMachine_findsNoGpu_withTheModelSessionsOptions() {
    List<TensorFlowGpuDiscovery.Listed> all = TensorFlowGpuDiscovery.listAll(SessionSettings.callingThread());
    assertTrue(all.stream().anyMatch(d -> d.type().equals("CPU") && d.name().endsWith("/device:CPU:0")),
        "the C API listing works: " + all);
    assertEquals(List.of(), new TensorFlowGpuDiscovery(SessionSettings.callingThread()).discover());
  }

  @Test
  void aListedDevice_isAGpuOnlyWhenItsTypeIsGpu() {
    assertNull(TensorFlowGpuDiscovery.gpuOf("CPU", "/job:localhost/replica:0/task:0/device:CPU:0", 0));
    assertEquals(new GpuDevice(1, "/job:localhost/replica:0/task:0/device:GPU:1", 15 * GIB),
        TensorFlowGpuDiscovery.gpuOf("GPU", "/job:localhost/replica:0/task:0/device:GPU:1", 15 * GIB));
  }

  @Test
  void aNodeWithGpus_takesRoleGpu_andAdvertisesTheirCountAndMemory() {
    NodeDevices listed = NodeDevices.discover(() -> List.of(new GpuDevice(0, "/device:GPU:0", 15 * GIB),
        new GpuDevice(1, "/device:GPU:1", 15 * GIB)), false);
    assertEquals(List.of("worker", "gpu"), listed.roles(List.of("worker")));
    assertEquals(Map.of("shardserve.node.capacity.gpus", 2, "shardserve.node.capacity.gpu-memory", 30 * GIB + " B"),
        listed.config());

    NodeDevices none = NodeDevices.discover(GpuDiscovery.NONE, false);
    assertEquals(List.of("worker"), none.roles(List.of("worker")));
    assertEquals(0, none.config().get("shardserve.node.capacity.gpus"));
  }

  @Test
  void gpusNamedByIndex_becomeTheProcesssVisibleDevices_memoryStaysConfigured() {
    NodeDevices configured = NodeDevices.discover(GpuDiscovery.fromSetting("1", SessionSettings.callingThread()),
        true);
    assertEquals(List.of("worker", "gpu"), configured.roles(List.of("worker")));
    assertEquals(Map.of("shardserve.node.capacity.gpus", 1, "shardserve.node.tensorflow.visible-devices", "1"),
        configured.config());
  }

  @Test
  void sessionOptions_pinTheVisibleDevices_andHideGpusFromACpuModel() {
    SessionSettings s = new SessionSettings(1, -1, true, 2, "0,1", dev.shardserve.desired.Device.ANY, null);
    assertEquals("0,1", s.toProto().getGpuOptions().getVisibleDeviceList());
    assertTrue(s.toProto().getDeviceCountMap().isEmpty());
    assertEquals(Map.of("GPU", 0), s.forDevice(dev.shardserve.desired.Device.CPU).toProto().getDeviceCountMap());
    assertThrows(IllegalArgumentException.class,
        () -> new SessionSettings(1, -1, true, 0, "gpu0", dev.shardserve.desired.Device.ANY, null));
  }
}
