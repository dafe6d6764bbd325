package dev.shardserve.logging;

import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * A request's id: the client's {@code X-Request-Id} when it is a safe token
 * ({@code [A-Za-z0-9._:-]{1,128}}, which UUIDs and most tracing ids are), otherwise 32 random hex
 * digits generated on arrival. Echoed in the answer's {@code X-Request-Id}, carried to the node,
 * and put in the MDC; never a metric label.
 */
public record RequestId(String value) {
  public static final String HEADER = "X-Request-Id";
  private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

  public RequestId {
    if (value == null || !SAFE.matcher(value).matches()) {
      throw new IllegalArgumentException("invalid request id '" + value + "': expected [A-Za-z0-9._:-]{1,128}");
    }
  }

  /** The header's value when it is a valid id; otherwise (absent, empty, unsafe) a new one. */
  public static RequestId fromHeader(String header) {
    if (header != null) {
      String v = header.trim();
      if (SAFE.matcher(v).matches()) {
        return new RequestId(v);
      }
    }
    return generate();
  }

  public static RequestId generate() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    return new RequestId(Hex.of(r.nextLong(), 16) + Hex.of(r.nextLong(), 16));
  }

  @Override
  public String toString() {
    return value;
  }
}
