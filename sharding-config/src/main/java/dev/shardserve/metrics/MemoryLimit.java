package dev.shardserve.metrics;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * The memory this process may use, for the headroom alert: the cgroup limit of its container
 * (cgroup v2 {@code memory.max}, or v1 {@code memory/memory.limit_in_bytes}), or the machine's
 * physical memory when there is none. Read once at start: a container's limit does not change
 * under a running process.
 */
final class MemoryLimit {
  /** cgroup v1 writes a page-rounded Long.MAX_VALUE for "no limit". */
  private static final long UNLIMITED_ABOVE = 1L << 60;

  private MemoryLimit() {}

  static OptionalLong read(Path cgroupRoot) {
    OptionalLong cgroup = cgroupLimit(cgroupRoot);
    return cgroup.isPresent() ? cgroup : physical();
  }

  static OptionalLong cgroupLimit(Path cgroupRoot) {
    for (Path file : new Path[] {cgroupRoot.resolve("memory.max"),
        cgroupRoot.resolve("memory").resolve("memory.limit_in_bytes")}) {
      try {
        if (Files.isReadable(file)) {
          String value = Files.readString(file).trim();
          if (value.equals("max")) {
            return OptionalLong.empty();
          }
          long bytes = Long.parseLong(value);
          return bytes > 0 && bytes < UNLIMITED_ABOVE ? OptionalLong.of(bytes) : OptionalLong.empty();
        }
      } catch (IOException | NumberFormatException e) {
        return OptionalLong.empty();
      }
    }
    return OptionalLong.empty();
  }

  private static OptionalLong physical() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      long total = os.getTotalMemorySize();
      return total > 0 ? OptionalLong.of(total) : OptionalLong.empty();
    }
    return OptionalLong.empty();
  }
}
