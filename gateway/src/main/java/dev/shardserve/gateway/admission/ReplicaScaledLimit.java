package dev.shardserve.gateway.admission;

import com.netflix.concurrency.limits.Limit;
import com.netflix.concurrency.limits.limit.Gradient2Limit;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * One model's adaptive concurrency limit: Netflix's Gradient2 learns a limit <em>per replica</em>
 * from the latency of successful requests, and the model's limit is that times its replica count,
 * so a change in the replica count scales what was learned instead of starting over. Gradient2
 * ignores dropped requests (a fast refusal would count as a short, healthy sample and raise the
 * limit), so drops go to a cap of their own: each drop (a 503 from a full queue, a 504) lowers the
 * cap by 10 % (not below the floor), and successes raise it by one per cap's worth of them (AIMD).
 * The limit is the smaller of the two.
 */
final class ReplicaScaledLimit implements Limit {
  private final Gradient2Limit perReplica;
  private final int minPerReplica;
  private final int maxPerReplica;
  private final List<Consumer<Integer>> listeners = new CopyOnWriteArrayList<>();
  private volatile int replicas;
  private double dropCap;
  private volatile int limit;

  ReplicaScaledLimit(Admission.Settings s, int replicas) {
    this.minPerReplica = s.minLimit();
    this.maxPerReplica = s.maxLimit();
    this.perReplica = Gradient2Limit.newBuilder()
        .initialLimit(s.initialLimit())
        .minLimit(s.minLimit())
        .maxConcurrency(s.maxLimit())
        .build();
    this.replicas = Math.max(1, replicas);
    this.dropCap = (double) maxPerReplica * this.replicas;
    perReplica.notifyOnChange(v -> update());
    update();
  }

  /** The model's replica count changed: the learned per-replica limit now applies to that many. */
  void replicas(int count) {
    int r = Math.max(1, count);
    if (r != replicas) {
      synchronized (this) {
        dropCap = dropCap / replicas * r;
        replicas = r;
      }
      update();
    }
  }

  int replicas() {
    return replicas;
  }

  @Override
  public int getLimit() {
    return limit;
  }

  @Override
  public void notifyOnChange(Consumer<Integer> consumer) {
    listeners.add(consumer);
  }

  @Override
  public void onSample(long startTime, long rtt, int inflight, boolean didDrop) {
    int r = replicas;
    synchronized (this) {
      double floor = (double) minPerReplica * r;
      double ceiling = (double) maxPerReplica * r;
      if (didDrop) {
        dropCap = Math.max(floor, Math.min(dropCap, limit) * 0.9);
      } else {
        dropCap = Math.min(ceiling, dropCap + 1.0 / Math.max(1.0, dropCap));
      }
    }
    if (!didDrop) {
      perReplica.onSample(startTime, rtt, Math.max(1, inflight / r), false);
    }
    update();
  }

  private void update() {
    int next;
    synchronized (this) {
      next = (int) Math.max(1, Math.min((long) perReplica.getLimit() * replicas, (long) dropCap));
    }
    if (next != limit) {
      limit = next;
      for (Consumer<Integer> l : listeners) {
        l.accept(next);
      }
    }
  }
}
