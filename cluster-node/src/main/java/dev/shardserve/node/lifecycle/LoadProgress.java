package dev.shardserve.node.lifecycle;

import dev.shardserve.concurrent.Ticker;
import dev.shardserve.logging.LifecycleLog;
import java.time.Duration;

/**
 * The progress of one version's load, for a person watching the log: the loading thread sets the
 * phase ({@code reading}, then {@code warming_up} with n of m runs); {@link #report} (called by a
 * timer every {@link #EVERY}) writes one {@code version_load_progress} line while the load runs,
 * the first once it has taken {@link #EVERY}: a quick load writes none. Phase and counts are
 * written by the loading thread and read by the timer's.
 */
public final class LoadProgress {
  /** How often a running load reports, and how long it runs before its first report. */
  public static final Duration EVERY = Duration.ofSeconds(2);

  private final LifecycleLog log;
  private final String model;
  private final long version;
  private final Ticker ticker;
  private final long startedNanos;
  private volatile String phase = "reading";
  private volatile int done;
  private volatile int total;
  private volatile boolean finished;

  public LoadProgress(LifecycleLog log, String model, long version, Ticker ticker) {
    this.log = log;
    this.model = model;
    this.version = version;
    this.ticker = ticker;
    this.startedNanos = ticker.nanos();
  }

  /** The loading thread starts a phase of {@code total} steps (0: a phase without steps). */
  public void phase(String name, int total) {
    this.done = 0;
    this.total = total;
    this.phase = name;
  }

  /** One more step of the current phase done. */
  public void step() {
    done++;
  }

  /** {@code steps} planned steps of the current phase will not run (the total shrinks). */
  public void skip(int steps) {
    total -= steps;
  }

  /** The load ended (loaded or failed): no more reports. */
  public void finished() {
    finished = true;
  }

  String phase() {
    return phase;
  }

  int done() {
    return done;
  }

  int total() {
    return total;
  }

  /** Writes the current phase when the load has run at least {@link #EVERY}; true when it wrote one. */
  public boolean report() {
    if (finished || ticker.nanos() - startedNanos < EVERY.toNanos()) {
      return false;
    }
    log.versionLoadProgress(model, version, phase, done, total);
    return true;
  }
}
