package dev.shardserve.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemoryLimitTest {
  @TempDir Path root;

  @Test
  void cgroupV2_limit_isRead() throws Exception {
    Files.writeString(root.resolve("memory.max"), "1073741824\n");
    assertEquals(OptionalLong.of(1073741824L), MemoryLimit.cgroupLimit(root));
  }

  @Test
  void cgroupV2_max_isNoLimit() throws Exception {
    Files.writeString(root.resolve("memory.max"), "max\n");
    assertTrue(MemoryLimit.cgroupLimit(root).isEmpty());
  }

  @Test
  void cgroupV1_unlimited_isNoLimit() throws Exception {
    Files.createDirectories(root.resolve("memory"));
    Files.writeString(root.resolve("memory").resolve("memory.limit_in_bytes"), "9223372036854771712\n");
    assertTrue(MemoryLimit.cgroupLimit(root).isEmpty());
  }

  @Test
  void noCgroup_fallsBackToPhysicalMemory() {
    OptionalLong limit = MemoryLimit.read(root);
    assertTrue(limit.isPresent() && limit.getAsLong() > 0);
  }
}
