package dev.shardserve.perf;

import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A suite's progress line for a person watching: every {@code everySeconds}, how long the suite
 * has run, how many measurements are done, what runs now, and (with an expected duration) about how
 * much is left. Printed from a daemon thread; {@link #close} stops it.
 */
final class Progress implements AutoCloseable {
  private final long startNanos = System.nanoTime();
  private final double expectedSeconds;
  private final AtomicInteger done = new AtomicInteger();
  private volatile String now = "starting";
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "bench-progress");
    t.setDaemon(true);
    return t;
  });

  /** @param expectedSeconds what the whole suite is expected to take (0: unknown) */
  Progress(double expectedSeconds, long everySeconds) {
    this.expectedSeconds = expectedSeconds;
    timer.scheduleAtFixedRate(() -> System.out.println("[bench] " + line()), everySeconds, everySeconds,
        TimeUnit.SECONDS);
  }

  /** What runs now (a system starting, a measurement window). */
  void now(String activity) {
    now = activity;
  }

  /** One measurement done. */
  void measured() {
    done.incrementAndGet();
  }

  String line() {
    double elapsed = (System.nanoTime() - startNanos) / 1e9;
    String left = expectedSeconds <= 0 ? "" : elapsed < expectedSeconds
        ? String.format(Locale.ROOT, ", about %s left", minutes(expectedSeconds - elapsed)) : ", overdue";
    return String.format(Locale.ROOT, "progress: %s in, %d measurements done%s; now: %s", minutes(elapsed),
        done.get(), left, now);
  }

  static String minutes(double seconds) {
    long s = Math.round(seconds);
    return s < 60 ? s + " s" : String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60);
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
