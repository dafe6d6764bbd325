package dev.shardserve.metrics;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;

/**
 * One model's {@code shardserve_requests_total} data points by (version, protocol, api, code),
 * resolved once each and then found without locking or allocation: an immutable open-addressing
 * table behind a volatile field, replaced (copied, under a lock) only when a new combination
 * appears. A model sees a few dozen combinations in its life, so the copies are rare.
 */
final class RequestSeries {
  private static final class Table {
    final long[] versions;
    final int[] keys;
    final CounterDataPoint[] points;
    final int size;

    Table(int capacity, int size) {
      versions = new long[capacity];
      keys = new int[capacity];
      points = new CounterDataPoint[capacity];
      this.size = size;
    }
  }

  private final Counter counter;
  private final String model;
  private volatile Table table = new Table(16, 0);

  RequestSeries(Counter counter, String model) {
    this.counter = counter;
    this.model = model;
  }

  /** Packs (protocol, api, code) into one int: code fits 16 bits once bounded by the caller. */
  static int key(Protocol protocol, Api api, int code) {
    return (protocol.ordinal() << 24) | (api.ordinal() << 16) | (code & 0xFFFF);
  }

  CounterDataPoint get(long version, Protocol protocol, Api api, int anyCode) {
    int code = CodeLabel.bound(protocol, anyCode);
    int key = key(protocol, api, code);
    Table t = table;
    int mask = t.points.length - 1;
    for (int i = hash(version, key) & mask; ; i = (i + 1) & mask) {
      CounterDataPoint p = t.points[i];
      if (p == null) {
        return add(version, protocol, api, code, key);
      }
      if (t.keys[i] == key && t.versions[i] == version) {
        return p;
      }
    }
  }

  private synchronized CounterDataPoint add(long version, Protocol protocol, Api api, int code, int key) {
    Table t = table;
    CounterDataPoint existing = find(t, version, key);
    if (existing != null) {
      return existing;
    }
    CounterDataPoint point = counter.labelValues(model, ModelMetrics.versionLabel(version), protocol.label(),
        api.label(), CodeLabel.of(protocol, code));
    int capacity = t.points.length;
    while ((t.size + 1) * 2 > capacity) {
      capacity *= 2;
    }
    Table next = new Table(capacity, t.size + 1);
    for (int i = 0; i < t.points.length; i++) {
      if (t.points[i] != null) {
        put(next, t.versions[i], t.keys[i], t.points[i]);
      }
    }
    put(next, version, key, point);
    table = next;
    return point;
  }

  private static CounterDataPoint find(Table t, long version, int key) {
    int mask = t.points.length - 1;
    for (int i = hash(version, key) & mask; t.points[i] != null; i = (i + 1) & mask) {
      if (t.keys[i] == key && t.versions[i] == version) {
        return t.points[i];
      }
    }
    return null;
  }

  private static void put(Table t, long version, int key, CounterDataPoint point) {
    int mask = t.points.length - 1;
    int i = hash(version, key) & mask;
    while (t.points[i] != null) {
      i = (i + 1) & mask;
    }
    t.versions[i] = version;
    t.keys[i] = key;
    t.points[i] = point;
  }

  private static int hash(long version, int key) {
    long h = version * 0x9E3779B97F4A7C15L + key;
    h ^= h >>> 29;
    h *= 0xBF58476D1CE4E5B9L;
    return (int) (h ^ (h >>> 32));
  }

  /** Distinct combinations seen so far (tests). */
  int size() {
    return table.size;
  }
}
