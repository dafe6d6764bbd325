package dev.shardserve.desired;

import java.util.Collections;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Which versions of a model should be loaded, as TensorFlow Serving's
 * {@code model_version_policy}: the newest {@code N} ({@link Latest}, default 1), every version
 * ({@link All}), or a fixed set ({@link Specific}).
 */
public sealed interface VersionPolicy permits VersionPolicy.Latest, VersionPolicy.All, VersionPolicy.Specific {

  VersionPolicy DEFAULT = new Latest(1);

  /** The versions among {@code onDisk} that this policy wants loaded. */
  SortedSet<Long> select(SortedSet<Long> onDisk);

  /** The policy in the config file's and admin API's notation. */
  String describe();

  record Latest(int count) implements VersionPolicy {
    public Latest {
      if (count < 1) {
        throw new IllegalArgumentException("version policy latest needs a count >= 1, was " + count);
      }
    }

    @Override
    public SortedSet<Long> select(SortedSet<Long> onDisk) {
      TreeSet<Long> out = new TreeSet<>();
      for (Long v : ((TreeSet<Long>) new TreeSet<>(onDisk)).descendingSet()) {
        if (out.size() == count) {
          break;
        }
        out.add(v);
      }
      return out;
    }

    @Override
    public String describe() {
      return "latest " + count;
    }
  }

  enum All implements VersionPolicy {
    INSTANCE;

    @Override
    public SortedSet<Long> select(SortedSet<Long> onDisk) {
      return new TreeSet<>(onDisk);
    }

    @Override
    public String describe() {
      return "all";
    }
  }

  record Specific(SortedSet<Long> versions) implements VersionPolicy {
    public Specific {
      if (versions == null || versions.isEmpty()) {
        throw new IllegalArgumentException("version policy specific needs at least one version");
      }
      for (long v : versions) {
        if (v < 0) {
          throw new IllegalArgumentException("version policy specific: versions are >= 0, was " + v);
        }
      }
      versions = Collections.unmodifiableSortedSet(new TreeSet<>(versions));
    }

    @Override
    public SortedSet<Long> select(SortedSet<Long> onDisk) {
      TreeSet<Long> out = new TreeSet<>(onDisk);
      out.retainAll(versions);
      return out;
    }

    @Override
    public String describe() {
      return "specific " + versions;
    }
  }
}
