package dev.shardserve.perf;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/** What the report says about the machine and the versions measured. */
final class MachineInfo {
  private MachineInfo() {}

  static String describe() {
    return Runtime.getRuntime().availableProcessors() + " cores (" + cpuModel() + "), " + memory() + ", "
        + System.getProperty("os.name") + " " + System.getProperty("os.version") + ", Java "
        + System.getProperty("java.vm.version") + " (" + System.getProperty("java.vm.vendor") + ")";
  }

  static String versions() {
    Properties p = new Properties();
    try (InputStream in = MachineInfo.class.getResourceAsStream("/shardserve-perf-versions.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      return "unknown (" + e.getMessage() + ")";
    }
    return "shardserve " + p.getProperty("shardserve") + ", Akka " + p.getProperty("akka") + ", Akka HTTP "
        + p.getProperty("akka-http") + ", TensorFlow Java " + p.getProperty("tensorflow-java") + ", HdrHistogram "
        + p.getProperty("hdrhistogram") + ", XChart " + p.getProperty("xchart");
  }

  private static String cpuModel() {
    return procLine(Path.of("/proc/cpuinfo"), "model name").orElse("CPU model unknown");
  }

  private static String memory() {
    return procLine(Path.of("/proc/meminfo"), "MemTotal")
        .map(v -> String.format(java.util.Locale.ROOT, "%.1f GiB RAM",
            Long.parseLong(v.replaceAll("[^0-9]", "")) / 1024.0 / 1024.0))
        .orElse("RAM unknown");
  }

  private static java.util.Optional<String> procLine(Path file, String key) {
    try {
      return Files.readAllLines(file).stream().filter(l -> l.startsWith(key)).findFirst()
          .map(l -> l.substring(l.indexOf(':') + 1).trim());
    } catch (IOException | RuntimeException e) {
      return java.util.Optional.empty();
    }
  }
}
