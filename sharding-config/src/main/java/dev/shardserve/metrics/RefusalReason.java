package dev.shardserve.metrics;

/**
 * Why a request was refused without running: the {@code reason} label of
 * {@code shardserve_refused_total}. Every reason of a model starts at 0 with its first request,
 * so {@code rate()} and {@code increase()} see the first refusal.
 */
public enum RefusalReason {
  /** The node's batch queue of the model was full (node, OVERLOADED). */
  QUEUE_FULL("queue_full"),
  /** Over the gateway's adaptive concurrency limit for the model (gateway, 503). */
  ADMISSION("admission"),
  /** Over a byte budget: the gateway's in-flight bytes or the body limit (gateway, 413/503). */
  BYTES("bytes"),
  /** The gateway → node channel had no room for the request (gateway, 503). */
  CHANNEL_FULL("channel_full"),
  /** The request's deadline passed before it ran (gateway or node, 504). */
  DEADLINE("deadline"),
  /** More rows than the model's largest batch, with splitting off (node, 400). */
  TOO_LARGE("too_large"),
  /** No replica could take it: none serving, all draining or unreachable (gateway, 503). */
  UNAVAILABLE("unavailable");

  private final String label;

  RefusalReason(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }
}
