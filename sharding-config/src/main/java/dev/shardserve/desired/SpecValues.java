package dev.shardserve.desired;

import dev.shardserve.protocol.VersionSelector;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Reads the values of a {@link ModelSpec} from plain JSON-like values (maps, lists, strings,
 * numbers), as both the config file and the admin API deliver them; every error names the field
 * ({@code at}) and the bad value. The version policy accepts shardserve's short forms
 * ({@code "all"}, {@code "latest"}, {@code {"latest": 2}}, {@code {"specific": [1, 2]}}) and TF
 * Serving's JSON spelling ({@code {"latest": {"num_versions": 2}}},
 * {@code {"specific": {"versions": [1, 2]}}}, {@code {"all": {}}}).
 */
public final class SpecValues {
  private SpecValues() {}

  public static VersionPolicy policy(Object v, String at) {
    if (v instanceof String s) {
      if (s.equals("all")) {
        return VersionPolicy.All.INSTANCE;
      }
      if (s.equals("latest")) {
        return VersionPolicy.DEFAULT;
      }
      throw new IllegalArgumentException(at + ": unknown version policy '" + s
          + "', expected \"all\", \"latest\", {\"latest\": N} or {\"specific\": [versions]}");
    }
    if (!(v instanceof Map<?, ?> m) || m.size() != 1) {
      throw new IllegalArgumentException(at + ": expected \"all\", \"latest\", {\"latest\": N} or "
          + "{\"specific\": [versions]}, was " + v);
    }
    Map.Entry<?, ?> e = m.entrySet().iterator().next();
    String kind = String.valueOf(e.getKey());
    Object arg = e.getValue();
    switch (kind) {
      case "all":
        return VersionPolicy.All.INSTANCE;
      case "latest": {
        Object n = arg instanceof Map<?, ?> inner ? inner.get("num_versions") : arg;
        long count = integral(n == null ? 1 : n, at + ".latest");
        if (count < 1 || count > Integer.MAX_VALUE) {
          throw new IllegalArgumentException(at + ".latest must be >= 1, was " + count);
        }
        return new VersionPolicy.Latest((int) count);
      }
      case "specific": {
        Object list = arg instanceof Map<?, ?> inner ? inner.get("versions") : arg;
        if (!(list instanceof List<?> l) || l.isEmpty()) {
          throw new IllegalArgumentException(at + ".specific must be a non-empty list of versions, was " + arg);
        }
        TreeSet<Long> versions = new TreeSet<>();
        for (Object o : l) {
          versions.add(version(o, at + ".specific"));
        }
        return new VersionPolicy.Specific(versions);
      }
      default:
        throw new IllegalArgumentException(at + ": unknown version policy '" + kind
            + "', expected latest, all or specific");
    }
  }

  public static TreeMap<String, Long> labels(Object v, String at) {
    if (!(v instanceof Map<?, ?> m)) {
      throw new IllegalArgumentException(at + " must be an object of label -> version, was " + v);
    }
    TreeMap<String, Long> out = new TreeMap<>();
    for (Map.Entry<?, ?> e : m.entrySet()) {
      String label = String.valueOf(e.getKey());
      try {
        new VersionSelector.Label(label);
      } catch (IllegalArgumentException bad) {
        throw new IllegalArgumentException(at + ": " + bad.getMessage());
      }
      out.put(label, version(e.getValue(), at + "." + label));
    }
    return out;
  }

  /** A replica count 1..64, or {@code "auto"} (2 with two or more worker nodes, else 1). */
  public static int replicas(Object v, String at) {
    if ("auto".equals(v)) {
      return ModelSpec.AUTO_REPLICAS;
    }
    long n = integral(v, at);
    if (n < 1 || n > ModelSpec.MAX_REPLICAS) {
      throw new IllegalArgumentException(at + " must be between 1 and " + ModelSpec.MAX_REPLICAS + ", was " + n);
    }
    return (int) n;
  }

  private static final java.util.Set<String> BATCHING_KEYS = java.util.Set.of("enabled", "max_batch_size",
      "max_queue_delay", "max_queue_delay_us", "max_queued_requests", "allowed_batch_sizes", "parallel_batches",
      "split_large_requests");

  /**
   * Batching settings over {@code base}: keys in HOCON ({@code max-batch-size}) or JSON
   * ({@code max_batch_size}) spelling; {@code max_queue_delay} is a duration ({@code "2ms"}),
   * {@code max_queue_delay_us} the same in microseconds.
   */
  public static BatchingSpec batching(Object v, String at, BatchingSpec base) {
    if (!(v instanceof Map<?, ?> m)) {
      throw new IllegalArgumentException(at + " must be an object, was " + v);
    }
    boolean enabled = base.enabled();
    int maxBatch = base.maxBatchSize();
    long delay = base.maxQueueDelayMicros();
    int maxQueued = base.maxQueuedRequests();
    List<Integer> allowed = base.allowedBatchSizes();
    int parallel = base.parallelBatches();
    boolean split = base.splitLargeRequests();
    for (Map.Entry<?, ?> e : m.entrySet()) {
      String key = String.valueOf(e.getKey()).replace('-', '_');
      String field = at + "." + e.getKey();
      Object value = e.getValue();
      switch (key) {
        case "enabled":
          enabled = bool(value, field);
          break;
        case "max_batch_size":
          maxBatch = (int) bounded(value, field, 1, 1_000_000);
          break;
        case "max_queue_delay":
          delay = durationMicros(value, field);
          break;
        case "max_queue_delay_us":
          delay = bounded(value, field, 0, 60_000_000L);
          break;
        case "max_queued_requests":
          maxQueued = (int) bounded(value, field, 1, 1_000_000);
          break;
        case "allowed_batch_sizes": {
          if (!(value instanceof List<?> l)) {
            throw new IllegalArgumentException(field + " must be a list of sizes, was " + value);
          }
          List<Integer> sizes = new java.util.ArrayList<>();
          for (Object o : l) {
            sizes.add((int) bounded(o, field, 1, 1_000_000));
          }
          allowed = sizes;
          break;
        }
        case "parallel_batches":
          parallel = (int) bounded(value, field, 0, 1024);
          break;
        case "split_large_requests":
          split = bool(value, field);
          break;
        default:
          throw new IllegalArgumentException(at + ": unknown field '" + e.getKey() + "', expected one of "
              + new java.util.TreeSet<>(BATCHING_KEYS));
      }
    }
    try {
      return new BatchingSpec(enabled, maxBatch, delay, maxQueued, allowed, parallel, split);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(at + ": " + e.getMessage(), e);
    }
  }

  /** A device: {@code "gpu"}, {@code "cpu"} or {@code "any"}. */
  public static Device device(Object v, String at) {
    if (!(v instanceof String s)) {
      throw new IllegalArgumentException(at + " must be \"gpu\", \"cpu\" or \"any\", was " + v);
    }
    try {
      return Device.parse(s);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(at + " must be \"gpu\", \"cpu\" or \"any\", was \"" + s + "\"");
    }
  }

  /** A duration ({@code "30s"}, {@code "500ms"}) in milliseconds, between 1 ms and 10 min. */
  public static long timeoutMillis(Object v, String at) {
    long micros = durationMicros(v, at);
    if (micros < 1000 || micros > ModelSpec.MAX_TIMEOUT_MILLIS * 1000) {
      throw new IllegalArgumentException(at + " must be between 1ms and 10m, was " + v);
    }
    return micros / 1000;
  }

  private static long durationMicros(Object v, String at) {
    if (!(v instanceof String s)) {
      throw new IllegalArgumentException(at + " must be a duration such as \"2ms\" or \"30s\", was " + v);
    }
    try {
      long nanos = com.typesafe.config.ConfigFactory.parseMap(Map.of("d", s)).getDuration("d").toNanos();
      if (nanos < 0) {
        throw new IllegalArgumentException(at + " must not be negative, was " + s);
      }
      return nanos / 1000;
    } catch (com.typesafe.config.ConfigException e) {
      throw new IllegalArgumentException(at + " must be a duration such as \"2ms\" or \"30s\", was \"" + s + "\"");
    }
  }

  private static long bounded(Object v, String at, long min, long max) {
    long n = integral(v, at);
    if (n < min || n > max) {
      throw new IllegalArgumentException(at + " must be between " + min + " and " + max + ", was " + n);
    }
    return n;
  }

  private static boolean bool(Object v, String at) {
    if (!(v instanceof Boolean b)) {
      throw new IllegalArgumentException(at + " must be true or false, was " + v);
    }
    return b;
  }

  /** A version number: a non-negative integer, or a string of digits (as TF Serving's JSON renders int64). */
  public static long version(Object v, String at) {
    long n;
    if (v instanceof String s && !s.isEmpty() && s.length() <= 18 && s.chars().allMatch(Character::isDigit)) {
      n = Long.parseLong(s);
    } else {
      n = integral(v, at);
    }
    if (n < 0) {
      throw new IllegalArgumentException(at + ": a version is >= 0, was " + n);
    }
    return n;
  }

  private static long integral(Object v, String at) {
    if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
      return ((Number) v).longValue();
    }
    if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())
        && Math.abs(n.doubleValue()) < 9.0e15) {
      return n.longValue();
    }
    throw new IllegalArgumentException(at + " must be an integer, was " + v);
  }
}
