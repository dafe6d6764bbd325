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

  public static int replicas(Object v, String at) {
    long n = integral(v, at);
    if (n < 1 || n > ModelSpec.MAX_REPLICAS) {
      throw new IllegalArgumentException(at + " must be between 1 and " + ModelSpec.MAX_REPLICAS + ", was " + n);
    }
    return (int) n;
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
