package dev.shardserve.gateway.routing;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Picks a model's replica for the next request: the one with the fewest requests outstanding
 * from this gateway (ties broken at random), skipping replicas that failed or timed out within
 * {@code avoidNanos} while another is available. Thread-safe and lock-free; the clock is
 * injected for tests.
 */
public final class ReplicaChooser {
  private static final class Replica {
    final AtomicInteger outstanding = new AtomicInteger();
    /** Clock value until which the replica is avoided; 0: not avoided. */
    final AtomicLong avoidUntil = new AtomicLong();

    boolean avoided(long now) {
      long until = avoidUntil.get();
      return until != 0 && now - until < 0;
    }
  }

  private final ConcurrentHashMap<String, Replica> replicas = new ConcurrentHashMap<>();
  private final LongSupplier clock;
  private final long avoidNanos;

  public ReplicaChooser(LongSupplier clock, long avoidNanos) {
    this.clock = clock;
    this.avoidNanos = avoidNanos;
  }

  private Replica replica(String model, int r) {
    return replicas.computeIfAbsent(model + '#' + r, k -> new Replica());
  }

  /** A replica of {@code count} not in {@code tried}; a tried one only when all were tried. */
  public int choose(String model, int count, Set<Integer> tried) {
    return choose(model, count, tried, Set.of());
  }

  /** As {@link #choose(String, int, Set)}, also avoiding {@code avoid} (replicas on leaving nodes). */
  public int choose(String model, int count, Set<Integer> tried, Set<Integer> avoid) {
    long now = clock.getAsLong();
    int best = -1;
    int bestLoad = Integer.MAX_VALUE;
    boolean bestAvoided = true;
    int ties = 0;
    for (int r = 0; r < count; r++) {
      if (tried.contains(r) && tried.size() < count) {
        continue;
      }
      Replica rep = replica(model, r);
      boolean avoided = rep.avoided(now) || avoid.contains(r);
      int load = rep.outstanding.get();
      boolean better = best < 0 || (bestAvoided && !avoided) || (avoided == bestAvoided && load < bestLoad);
      if (better) {
        best = r;
        bestLoad = load;
        bestAvoided = avoided;
        ties = 1;
      } else if (avoided == bestAvoided && load == bestLoad && ThreadLocalRandom.current().nextInt(++ties) == 0) {
        best = r; // reservoir choice among equals
      }
    }
    return Math.max(best, 0);
  }

  public void started(String model, int r) {
    replica(model, r).outstanding.incrementAndGet();
  }

  public void finished(String model, int r) {
    replica(model, r).outstanding.decrementAndGet();
  }

  /** The replica failed or did not answer in time: avoid it for a while. */
  public void failed(String model, int r) {
    replica(model, r).avoidUntil.set(clock.getAsLong() + avoidNanos);
  }

  /** It answered: no reason to avoid it any longer. */
  public void succeeded(String model, int r) {
    replica(model, r).avoidUntil.set(0);
  }

  public int outstanding(String model, int r) {
    return replica(model, r).outstanding.get();
  }

  public boolean avoided(String model, int r) {
    return replica(model, r).avoided(clock.getAsLong());
  }
}
