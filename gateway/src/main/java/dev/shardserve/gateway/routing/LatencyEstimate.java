package dev.shardserve.gateway.routing;

/**
 * A model's recent answer time as a gateway sees it: an exponentially weighted moving average
 * that rises at once to a slower sample and falls slowly (1/16 per sample), so that it leans to
 * the slow side, as a timeout should. Thread-safe enough for an estimate (racing updates lose a
 * sample, never corrupt the value).
 */
final class LatencyEstimate {
  private volatile long nanos;

  void sample(long sampleNanos) {
    long n = nanos;
    nanos = sampleNanos > n ? sampleNanos : n - (n - sampleNanos) / 16;
  }

  long nanos() {
    return nanos;
  }
}
