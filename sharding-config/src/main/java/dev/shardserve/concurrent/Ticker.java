package dev.shardserve.concurrent;

/**
 * A monotonic clock in nanoseconds (Caffeine's {@code Ticker}): durations and deadlines are
 * measured with it, so tests can drive time by hand. Values compare only within one JVM.
 */
@FunctionalInterface
public interface Ticker {
  Ticker SYSTEM = System::nanoTime;

  long nanos();
}
