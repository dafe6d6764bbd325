package dev.shardserve.metrics;

/** Why the gateway sent a request to another replica: the {@code reason} label of {@code shardserve_retries_total}. */
public enum RetryReason {
  /** The replica answered that it cannot serve (stopping, loading, draining). */
  UNAVAILABLE("unavailable"),
  /** The replica did not answer within the attempt timeout (its node may be gone). */
  TIMEOUT("timeout"),
  /** The replica's queue was full. */
  OVERLOADED("overloaded");

  private final String label;

  RetryReason(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }
}
