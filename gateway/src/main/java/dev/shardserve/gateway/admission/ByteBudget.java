package dev.shardserve.gateway.admission;

import com.typesafe.config.Config;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Admission by bytes in flight, beside {@link Admission}'s count of requests: a request body is
 * charged its declared {@code Content-Length}, or a conservative bound when the length is not
 * known in advance (chunked: the largest body accepted), before the body is read. Over the budget,
 * the caller answers 503 with {@code Retry-After} and discards the body unread. Invariant: the
 * bytes in flight never exceed the budget, except for one body larger than the whole budget,
 * which is admitted only when nothing else is in flight (so a large request still runs, alone).
 * A permit is released exactly once, however often {@code release} is called.
 */
public final class ByteBudget {

  /**
   * @param maxBytes the budget of body bytes in flight
   * @param unknownLengthBytes what a body of unknown length is charged (the largest body accepted)
   */
  public record Settings(long maxBytes, long unknownLengthBytes) {
    public Settings {
      if (maxBytes < 1) {
        throw new IllegalArgumentException("shardserve.gateway.admission.max-bytes-in-flight must be > 0, was "
            + maxBytes);
      }
      if (unknownLengthBytes < 0) {
        throw new IllegalArgumentException("the charge of a body of unknown length must be >= 0, was "
            + unknownLengthBytes);
      }
    }

    /**
     * From {@code shardserve.gateway.admission.max-bytes-in-flight}; 0 means a 32nd of the heap (at
     * least 1 MiB): decoding a JSON body was measured to hold about 16 times its size at its peak.
     */
    public static Settings fromConfig(Config admission, long maxRequestBytes, long maxHeapBytes) {
      long configured;
      try {
        configured = admission.getBytes("max-bytes-in-flight");
      } catch (com.typesafe.config.ConfigException e) {
        configured = -1;
      }
      if (configured < 0) {
        throw new IllegalArgumentException("shardserve.gateway.admission.max-bytes-in-flight must be >= 0 "
            + "(0: automatic), was " + admission.getValue("max-bytes-in-flight").render());
      }
      long budget = configured > 0 ? configured : Math.max(1L << 20, maxHeapBytes / 32);
      return new Settings(budget, maxRequestBytes);
    }
  }

  private final Settings settings;
  private final AtomicLong inFlight = new AtomicLong();

  public ByteBudget(Settings settings) {
    this.settings = settings;
  }

  /** A permit for a body of {@code declaredLength} (empty: unknown), or empty when over the budget. */
  public Optional<Permit> tryAcquire(OptionalLong declaredLength) {
    return tryAcquire(declaredLength, settings.unknownLengthBytes());
  }

  /**
   * As {@link #tryAcquire(OptionalLong)} for a route whose largest body is {@code routeLimit}
   * (the v2 binary route accepts more than max-request-bytes): a body of unknown length is charged
   * that.
   */
  public Optional<Permit> tryAcquire(OptionalLong declaredLength, long routeLimit) {
    long bytes = declaredLength.isPresent() ? Math.max(0, declaredLength.getAsLong()) : routeLimit;
    while (true) {
      long now = inFlight.get();
      boolean fits = now + bytes <= settings.maxBytes() && now + bytes >= 0;
      if (!fits && now != 0) {
        return Optional.empty();
      }
      if (inFlight.compareAndSet(now, now + bytes)) {
        return Optional.of(new Permit(bytes));
      }
    }
  }

  /** Body bytes admitted and not yet released. */
  public long inFlight() {
    return inFlight.get();
  }

  public long maxBytes() {
    return settings.maxBytes();
  }

  /** The 503 message for a refused body. */
  public String refusal(OptionalLong declaredLength) {
    return refusal(declaredLength, settings.unknownLengthBytes());
  }

  /** The 503 message for a body refused by {@link #tryAcquire(OptionalLong, long)}. */
  public String refusal(OptionalLong declaredLength, long routeLimit) {
    return "the gateway has " + inFlight.get() + " bytes of request bodies in flight and a budget of "
        + settings.maxBytes() + " (shardserve.gateway.admission.max-bytes-in-flight); a body of "
        + (declaredLength.isPresent() ? declaredLength.getAsLong() + " bytes" : "unknown length (charged "
            + routeLimit + " bytes)") + " must wait: retry later";
  }

  /** Bytes held until the request is answered (or fails): release in every case. */
  public final class Permit {
    private final long bytes;
    private final AtomicBoolean released = new AtomicBoolean();

    private Permit(long bytes) {
      this.bytes = bytes;
    }

    public long bytes() {
      return bytes;
    }

    public void release() {
      if (released.compareAndSet(false, true)) {
        inFlight.addAndGet(-bytes);
      }
    }
  }
}
