package dev.shardserve.node.runtime;

/**
 * Runs a task after a delay, without a thread waiting for it (a simulated device's completions).
 * The node's is a {@code ScheduledThreadPoolExecutor} ({@link SimulatedAccelerators}); tests use
 * a manual one driven by a fake clock.
 */
@FunctionalInterface
public interface AcceleratorTimer {
  /** Runs {@code task} once, {@code delayNanos} (>= 0) from now. */
  void schedule(Runnable task, long delayNanos);
}
