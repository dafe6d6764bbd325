package dev.shardserve.node.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A simulated device's timing on a fake clock: no thread waits, ends come from the timer. */
class SimulatedDeviceTest {
  static final long MS = 1_000_000L;

  @Test
  void oneLane_runsBatchesOneAfterAnother_eachEndingOnTime() {
    ManualClock clock = new ManualClock();
    long t0 = clock.nanos();
    SimulatedDevice device = new SimulatedDevice(1, clock.simulator());
    List<Long> ends = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      device.submit(MS, () -> ends.add(clock.nanos() - t0)); // returns at once: nothing waits
    }
    assertEquals(1, device.busy());
    assertEquals(2, device.waiting());
    assertEquals(List.of(), ends, "nothing ends before the clock moves");
    clock.advance(MS - 1);
    assertEquals(List.of(), ends);
    clock.advance(1);
    assertEquals(List.of(MS), ends);
    clock.advance(2 * MS);
    assertEquals(List.of(MS, 2 * MS, 3 * MS), ends);
    assertEquals(0, device.busy());
    assertEquals(0, clock.pending());
  }

  @Test
  void twoLanes_runTwoBatchesAtOnce() {
    ManualClock clock = new ManualClock();
    long t0 = clock.nanos();
    SimulatedDevice device = new SimulatedDevice(2, clock.simulator());
    List<Long> ends = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      device.submit(MS, () -> ends.add(clock.nanos() - t0));
    }
    assertEquals(2, device.busy());
    clock.advance(10 * MS);
    assertEquals(List.of(MS, MS, 2 * MS), ends);
  }

  @Test
  void aLateTimer_doesNotSlowTheDevice_aQueuedBatchStartsAtThePlannedEnd() {
    ManualClock clock = new ManualClock();
    List<Runnable> tasks = new ArrayList<>();
    List<Long> delays = new ArrayList<>();
    // a timer that only records: the test fires each task when it likes (here, late)
    SimulatedDevice device = new SimulatedDevice(1, new Simulator(clock, (task, delay) -> {
      tasks.add(task);
      delays.add(delay);
    }, Runnable::run));
    List<String> ended = new ArrayList<>();
    device.submit(MS, () -> ended.add("first"));
    device.submit(MS, () -> ended.add("second"));
    assertEquals(List.of(MS), delays);
    clock.advance(3 * MS / 2);
    tasks.get(0).run(); // the first batch's end fires 0.5 ms late
    assertEquals(List.of("first"), ended);
    // the second started at the first's planned end (1 ms), so it is due at 2 ms: 0.5 ms from now
    assertEquals(List.of(MS, MS / 2), delays);
    assertEquals(1, device.busy());
  }

  @Test
  void theEndOfABatchIsScheduled_atItsDuration() {
    ManualClock clock = new ManualClock();
    List<Long> delays = new ArrayList<>();
    SimulatedDevice device = new SimulatedDevice(1, new Simulator(clock, (task, delay) -> {
      delays.add(delay);
      clock.schedule(task, delay);
    }, Runnable::run));
    device.submit(MS, () -> { });
    device.submit(2 * MS, () -> { });
    clock.advance(MS / 2);
    assertEquals(List.of(MS), delays);
    clock.advance(MS / 2); // the first ends; the second starts at 1 ms and is due 2 ms later
    assertEquals(List.of(MS, 2 * MS), delays);
    assertEquals(2, device.started());
  }

  @Test
  void aDeviceNeedsALane() {
    assertThrows(IllegalArgumentException.class, () -> new SimulatedDevice(0, new ManualClock().simulator()));
  }
}
