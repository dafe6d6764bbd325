package dev.shardserve.gateway.admission;

import com.netflix.concurrency.limits.Limiter;
import com.netflix.concurrency.limits.limit.Gradient2Limit;
import com.netflix.concurrency.limits.limiter.SimpleLimiter;
import com.typesafe.config.Config;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.ToIntFunction;

/**
 * The gateway's admission control: one adaptive concurrency limit per model (Netflix
 * concurrency-limits, Gradient2), in front of the router. A request over the limit is refused at
 * once (503 with Retry-After) instead of joining a queue; the limit follows the latency the
 * model's replicas show: it grows while latency stays at its long-term level and shrinks when
 * latency rises (queues building), so that under overload the gateway sheds load early and the
 * replicas keep working at full speed on what they accepted. The limits are per replica and
 * scale with the model's replica count. Gradient2 cannot see a queue whose length holds steady
 * (latency then holds too), so {@code max-limit} bounds what one replica is given: about what it
 * can run plus a short queue, not its whole {@code max-queued-requests}.
 */
public final class Admission {

  /** Limits per model; {@code enabled = false} admits everything. */
  public record Settings(boolean enabled, int initialLimit, int minLimit, int maxLimit) {
    public Settings {
      if (minLimit < 1 || initialLimit < minLimit || maxLimit < initialLimit) {
        throw new IllegalArgumentException("shardserve.gateway.admission: need 1 <= min-limit <= initial-limit "
            + "<= max-limit, was " + minLimit + ", " + initialLimit + ", " + maxLimit);
      }
    }

    public static Settings fromConfig(Config c) {
      return new Settings(c.getBoolean("enabled"), c.getInt("initial-limit"), c.getInt("min-limit"),
          c.getInt("max-limit"));
    }
  }

  /** One admitted request: report how it ended, exactly once. */
  public interface Permit {
    /** Answered normally: its latency feeds the limit. */
    void success();

    /** Shed or timed out downstream (503, 504): the limit backs off. */
    void dropped();

    /** Ended for a reason that says nothing about load (a 4xx): not sampled. */
    void ignore();

    /** By HTTP status: 2xx success, 503/504 dropped, anything else ignored. */
    default void completed(int status) {
      if (status >= 200 && status < 300) {
        success();
      } else if (status == 503 || status == 504) {
        dropped();
      } else {
        ignore();
      }
    }
  }

  private static final Permit UNLIMITED = new Permit() {
    @Override
    public void success() {}

    @Override
    public void dropped() {}

    @Override
    public void ignore() {}
  };

  private final Settings settings;
  private final LongSupplier nanoClock;
  private final ToIntFunction<String> replicas;
  private final ConcurrentHashMap<String, Scaled> limiters = new ConcurrentHashMap<>();

  /** A model's limiter, built for a replica count (rebuilt when the count changes). */
  private record Scaled(int replicas, SimpleLimiter<Void> limiter) {}

  /**
   * @param replicas how many replicas serve a model: its limits are per replica, times this
   */
  public Admission(Settings settings, LongSupplier nanoClock, ToIntFunction<String> replicas) {
    this.settings = settings;
    this.nanoClock = nanoClock;
    this.replicas = replicas;
  }

  public Admission(Settings settings, LongSupplier nanoClock) {
    this(settings, nanoClock, m -> 1);
  }

  /** A permit, or empty when {@code model} is at its limit. */
  public Optional<Permit> tryAcquire(String model) {
    if (!settings.enabled()) {
      return Optional.of(UNLIMITED);
    }
    return limiter(model).acquire(null).map(Admission::permit);
  }

  /** The current limit of {@code model} (requests in flight it admits). */
  public int limit(String model) {
    return settings.enabled() ? limiter(model).getLimit() : Integer.MAX_VALUE;
  }

  public int inflight(String model) {
    return settings.enabled() ? limiter(model).getInflight() : 0;
  }

  private SimpleLimiter<Void> limiter(String model) {
    int r = Math.max(1, replicas.applyAsInt(model));
    Scaled s = limiters.get(model);
    if (s == null || s.replicas() != r) {
      s = limiters.compute(model, (m, old) -> old != null && old.replicas() == r ? old : new Scaled(r,
          SimpleLimiter.newBuilder()
              .named(m)
              .nanoClock(nanoClock)
              .clock(nanoClock::getAsLong)
              .limit(Gradient2Limit.newBuilder()
                  .initialLimit(settings.initialLimit() * r)
                  .minLimit(settings.minLimit() * r)
                  .maxConcurrency(settings.maxLimit() * r)
                  .build())
              .build()));
    }
    return s.limiter();
  }

  private static Permit permit(Limiter.Listener l) {
    return new Permit() {
      @Override
      public void success() {
        l.onSuccess();
      }

      @Override
      public void dropped() {
        l.onDropped();
      }

      @Override
      public void ignore() {
        l.onIgnore();
      }
    };
  }
}
