package dev.shardserve.gateway.security;

/** Which listener a request arrived on: it decides the scope a path needs. */
public enum Listener {
  /** Inference (REST v1 and v2): {@code infer}, except the open health paths and the repository endpoints. */
  INFERENCE,
  /** Admin API (gateway or node): {@code admin}, and {@code metrics} for {@code /metrics}. */
  ADMIN,
  /** A listener serving {@code /metrics} alone: {@code metrics}. */
  METRICS
}
