package dev.shardserve.perf;

import java.util.List;

/**
 * What a suite measures and for how long. Windows are closed-loop unless named overload.
 *
 * @param sweep client counts for shardserve standalone
 * @param baselineClients client counts for the baselines and the cluster
 * @param wideClients client counts for the efficiency runs (32 rows per request), for standalone and the
 *     naive server
 * @param overloadFactors open loops at these multiples of a system's saturated rate
 * @param crowdFactor a closed loop with this many times the clients that saturate a system (0: none)
 * @param rampSeconds how long the time-to-full-speed runs follow a fresh start, one-second windows (0: none)
 */
record Plan(String name, double warmupSeconds, double windowSeconds, List<Integer> sweep,
    List<Integer> baselineClients, List<Integer> wideClients, boolean cluster, boolean naiveDefaultThreads,
    List<Double> overloadFactors, int overloadConnections, int crowdFactor, int maxCrowd, double ceilingSeconds,
    List<Integer> ceilingBatches, int rampSeconds) {

  static final List<String> NAMES = List.of("smoke", "quick", "full");

  static Plan named(String name) {
    return switch (name) {
      // seconds: every code path of the report once, for CI
      case "smoke" -> new Plan(name, 0.5, 1, List.of(1, 8), List.of(1, 8), List.of(8), false, false, List.of(2.0),
          64, 16, 128, 1, List.of(1, 32), 0);
      // under 5 minutes on 2 cores
      case "quick" -> new Plan(name, 2, 3, List.of(1, 8, 64), List.of(1, 8, 64), List.of(16), true, true,
          List.of(2.0, 3.0), 512, 16, 1024, 2, List.of(1, 8, 32, 64, 128), 20);
      // under 30 minutes on 2 cores: the README's numbers
      case "full" -> new Plan(name, 5, 10, List.of(1, 2, 4, 8, 16, 32, 64, 128), List.of(1, 8, 64), List.of(4, 16),
          true, true, List.of(2.0, 3.0), 512, 16, 1024, 4, List.of(1, 8, 16, 32, 64, 128, 256), 45);
      default -> throw new IllegalArgumentException("--suite must be one of " + NAMES + ", was '" + name + "'");
    };
  }

  /**
   * What the suite takes on this machine (2 cores), from its last runs: the progress line's
   * "about ... left". Scenarios whose systems fail to start end sooner.
   */
  double expectedSeconds() {
    return switch (name) {
      case "smoke" -> SMOKE_SECONDS;
      case "quick" -> QUICK_SECONDS;
      default -> FULL_SECONDS;
    };
  }

  static final double SMOKE_SECONDS = 240;
  static final double QUICK_SECONDS = 600;
  static final double FULL_SECONDS = 1300;

  /** The client count the ratios compare at: 64 when measured, else the most this suite uses. */
  int ratioClients() {
    return baselineClients.contains(64) ? 64 : baselineClients.get(baselineClients.size() - 1);
  }
}
