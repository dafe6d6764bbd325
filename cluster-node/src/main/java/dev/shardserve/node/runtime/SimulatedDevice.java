package dev.shardserve.node.runtime;

import dev.shardserve.concurrent.Ticker;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * One simulated accelerator: it runs up to {@code concurrency} batches at once, each for the time
 * it is given, and queues the rest in arrival order. No thread waits while a batch "computes": the
 * end of each batch is a task on the {@link AcceleratorTimer}, and the batch's {@code onDone} then
 * runs on the {@link Simulator#completions() completion executor}.
 *
 * <p>Time is kept on the device's own lanes: a queued batch starts when a lane frees at the
 * <em>planned</em> end of the batch before it (or when it arrived, if later), not when the timer
 * happened to fire, so a late timer does not slow the device down; each end is honoured to the
 * timer's granularity. Thread-safe.
 */
final class SimulatedDevice {
  private record Job(long durationNanos, long arrivedNanos, Runnable onDone) {}

  private final Ticker ticker;
  private final AcceleratorTimer timer;
  private final java.util.concurrent.Executor completions;
  /** When each lane is free, in ticker nanos (Long.MIN_VALUE: never used). */
  private final long[] laneFreeAt;
  private final ArrayDeque<Job> waiting = new ArrayDeque<>();
  private int busy;
  private long started;

  SimulatedDevice(int concurrency, Simulator simulator) {
    if (concurrency < 1) {
      throw new IllegalArgumentException("concurrency must be >= 1, was " + concurrency);
    }
    this.ticker = simulator.ticker();
    this.timer = simulator.timer();
    this.completions = simulator.completions();
    this.laneFreeAt = new long[concurrency];
    Arrays.fill(laneFreeAt, Long.MIN_VALUE);
  }

  int concurrency() {
    return laneFreeAt.length;
  }

  /** Runs a batch of {@code durationNanos} on the device; {@code onDone} runs once it has ended. Returns at once. */
  void submit(long durationNanos, Runnable onDone) {
    Job job = new Job(Math.max(0, durationNanos), ticker.nanos(), onDone);
    synchronized (this) {
      if (busy < laneFreeAt.length) {
        startLocked(job);
      } else {
        waiting.addLast(job);
      }
    }
  }

  /** Batches running now (at most {@code concurrency}). */
  synchronized int busy() {
    return busy;
  }

  /** Batches waiting for a lane. */
  synchronized int waiting() {
    return waiting.size();
  }

  /** Batches started since the device was made. */
  synchronized long started() {
    return started;
  }

  private void startLocked(Job job) {
    int lane = 0;
    for (int i = 1; i < laneFreeAt.length; i++) {
      if (laneFreeAt[i] < laneFreeAt[lane]) {
        lane = i;
      }
    }
    long start = Math.max(job.arrivedNanos(), laneFreeAt[lane]);
    long end = start + job.durationNanos();
    laneFreeAt[lane] = end;
    busy++;
    started++;
    long delay = Math.max(0, end - ticker.nanos());
    timer.schedule(() -> ended(job), delay);
  }

  private void ended(Job job) {
    synchronized (this) {
      busy--;
      Job next = waiting.pollFirst();
      if (next != null) {
        startLocked(next);
      }
    }
    completions.execute(job.onDone());
  }
}
