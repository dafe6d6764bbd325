package dev.shardserve.gateway.admission;

import com.netflix.concurrency.limits.Limiter;
import com.netflix.concurrency.limits.limiter.SimpleLimiter;
import com.typesafe.config.Config;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The gateway's admission control (backpressure layer 2): one adaptive concurrency limit per
 * model ({@link ReplicaScaledLimit}: Gradient2 per replica, times the replica count, capped by
 * recent drops). Over the limit a request is refused at once (503 with Retry-After) instead of
 * joining a queue, so under overload the replicas keep working at full speed on what they
 * accepted. Two steps per request: {@link #full} before its body is read (a model already at its
 * limit is refused without reading a byte: cheap refusals), then {@link #tryAcquire} once the body
 * has arrived (a slow upload does not hold a permit).
 */
public final class Admission {

  /** Limits per model and replica; {@code enabled = false} admits everything. */
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

  /** A model's limit and the limiter that enforces it. */
  private record ModelLimit(ReplicaScaledLimit limit, SimpleLimiter<Void> limiter) {}

  private final Settings settings;
  private final LongSupplier nanoClock;
  private final ConcurrentHashMap<String, ModelLimit> limits = new ConcurrentHashMap<>();

  public Admission(Settings settings, LongSupplier nanoClock) {
    this.settings = settings;
    this.nanoClock = nanoClock;
  }

  /**
   * True when {@code model} (served by {@code replicas} replicas) is at its limit now: refuse it
   * before reading its body. A request that passes may still be refused by {@link #tryAcquire}.
   */
  public boolean full(String model, int replicas) {
    if (!settings.enabled()) {
      return false;
    }
    ModelLimit m = limit(model, replicas);
    return m.limiter().getInflight() >= m.limiter().getLimit();
  }

  /** A permit, or empty when {@code model} is at its limit. */
  public Optional<Permit> tryAcquire(String model, int replicas) {
    if (!settings.enabled()) {
      return Optional.of(UNLIMITED);
    }
    return limit(model, replicas).limiter().acquire(null).map(Admission::permit);
  }

  /** The current limit of {@code model} (requests in flight it admits). */
  public int limit(String model) {
    ModelLimit m = limits.get(model);
    return !settings.enabled() ? Integer.MAX_VALUE : m == null ? settings.initialLimit() : m.limiter().getLimit();
  }

  public int inflight(String model) {
    ModelLimit m = limits.get(model);
    return m == null ? 0 : m.limiter().getInflight();
  }

  private ModelLimit limit(String model, int replicas) {
    ModelLimit m = limits.get(model);
    if (m == null) {
      m = limits.computeIfAbsent(model, name -> {
        ReplicaScaledLimit limit = new ReplicaScaledLimit(settings, replicas);
        return new ModelLimit(limit, SimpleLimiter.newBuilder()
            .named(name)
            .clock(nanoClock::getAsLong)
            .limit(limit)
            .build());
      });
    }
    if (m.limit().replicas() != Math.max(1, replicas)) {
      m.limit().replicas(replicas);
    }
    return m;
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
