package dev.shardserve.gateway.security;

import java.util.Arrays;
import java.util.Locale;

/**
 * What a credential may do. None implies another: {@code infer} reaches the inference routes
 * (REST v1, v2, gRPC), {@code admin} the admin API and the repository endpoints, {@code metrics}
 * the Prometheus {@code /metrics} endpoint.
 */
public enum Scope {
  INFER,
  ADMIN,
  METRICS;

  /** The name used in key files, JWT claims and messages. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The scope named {@code label}; throws {@link IllegalArgumentException} naming it and the known ones. */
  public static Scope parse(String label) {
    for (Scope s : values()) {
      if (s.label().equals(label)) {
        return s;
      }
    }
    throw new IllegalArgumentException("unknown scope '" + label + "', expected one of "
        + Arrays.stream(values()).map(Scope::label).toList());
  }

  /** The scope named {@code label}, or null for a name this server does not use (JWTs carry others). */
  static Scope find(String label) {
    for (Scope s : values()) {
      if (s.label().equals(label)) {
        return s;
      }
    }
    return null;
  }
}
