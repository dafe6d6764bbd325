package dev.shardserve.metrics;

/**
 * Classic histogram bucket bounds. Inference times span four orders of magnitude (a
 * half_plus_two answer in 100 µs, a large model's batch in seconds, a deadline at 30-60 s), so
 * the bounds run 1 / 2.5 / 5 / 7.5 per decade from 100 µs to 10 s, then 30 s and 60 s: p99 from
 * {@code histogram_quantile} is within one bucket's width, and 24 series per histogram stay cheap.
 * With {@code shardserve.metrics.native-histograms = on} the histograms are native as well
 * (exponential buckets, no bounds to choose), served in the protobuf format to a Prometheus that
 * asks for it; the classic buckets stay for everyone else.
 */
final class Buckets {
  /** Request, queue and compute durations: 100 µs to 60 s. */
  static final double[] SECONDS = {
      0.0001, 0.00025, 0.0005, 0.00075,
      0.001, 0.0025, 0.005, 0.0075,
      0.01, 0.025, 0.05, 0.075,
      0.1, 0.25, 0.5, 0.75,
      1, 2.5, 5, 7.5,
      10, 30, 60};

  /** Model load (read, session, warm-up): 100 ms to 10 min. */
  static final double[] LOAD_SECONDS = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};

  /** Rows in one executed batch: powers of two up to 1024. */
  static final double[] BATCH_ROWS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

  private Buckets() {}

  /** The inference duration bounds (a copy). */
  static double[] seconds() {
    return SECONDS.clone();
  }
}
