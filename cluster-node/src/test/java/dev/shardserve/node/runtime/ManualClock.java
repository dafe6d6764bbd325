package dev.shardserve.node.runtime;

import dev.shardserve.concurrent.Ticker;
import java.util.PriorityQueue;

/**
 * A fake clock and timer for simulated accelerators: time moves only when a test calls
 * {@link #advance}, which runs every task that falls due, in time order, with the clock set to
 * each task's due time. Thread-safe; tasks run on the calling thread.
 */
public final class ManualClock implements Ticker, AcceleratorTimer {
  private record Due(long atNanos, long seq, Runnable task) {}

  private final PriorityQueue<Due> due = new PriorityQueue<>((a, b) -> a.atNanos != b.atNanos
      ? Long.compare(a.atNanos, b.atNanos) : Long.compare(a.seq, b.seq));
  private long now = 1_000_000_000L;
  private long seq;

  @Override
  public synchronized long nanos() {
    return now;
  }

  @Override
  public synchronized void schedule(Runnable task, long delayNanos) {
    if (delayNanos < 0) {
      throw new IllegalArgumentException("negative delay " + delayNanos);
    }
    due.add(new Due(now + delayNanos, seq++, task));
  }

  /** Tasks scheduled and not yet run. */
  public synchronized int pending() {
    return due.size();
  }

  /** When the next task falls due, or -1. */
  public synchronized long nextDueNanos() {
    return due.isEmpty() ? -1 : due.peek().atNanos;
  }

  /** Moves the clock {@code nanos} forward, running every task due by then. */
  public void advance(long nanos) {
    long until;
    synchronized (this) {
      until = now + nanos;
    }
    while (true) {
      Due d;
      synchronized (this) {
        if (due.isEmpty() || due.peek().atNanos > until) {
          now = until;
          return;
        }
        d = due.poll();
        now = Math.max(now, d.atNanos);
      }
      d.task.run();
    }
  }

  /** A simulator on this clock whose completions run on the thread that advances it. */
  public Simulator simulator() {
    return new Simulator(this, this, Runnable::run);
  }
}
