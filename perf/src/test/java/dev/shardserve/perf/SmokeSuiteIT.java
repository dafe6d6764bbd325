package dev.shardserve.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./shardserve bench --suite smoke} as CI runs it: the perf jar drives the product jar
 * (standalone, the baselines, the in-process ceiling) and writes a complete report.
 */
class SmokeSuiteIT {
  @TempDir Path out;

  @Test
  void theSmokeSuite_measuresEverySystem_andWritesTheReport() throws Exception {
    Path jar = Path.of(System.getProperty("shardserve.jar"));
    Path perfJar = Path.of(System.getProperty("shardserve.perf.jar"));
    assertTrue(Files.isRegularFile(jar) && Files.isRegularFile(perfJar), jar + " and " + perfJar + " are built");
    Path log = out.resolve("bench.log");
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
        perfJar.toString(), "--suite", "smoke", "--jar", jar.toString(), "--out", out.resolve("report").toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    boolean done = p.waitFor(5, TimeUnit.MINUTES);
    if (!done) {
      p.destroyForcibly();
    }
    String printed = Files.readString(log);
    assertTrue(done, "the smoke suite ends within 5 minutes:\n" + printed);
    assertEquals(0, p.exitValue(), "the smoke suite measured every system:\n" + printed);

    String md = Files.readString(out.resolve("report/report.md"));
    for (String s : List.of("| batching gain | standalone ÷ naive server", "| HTTP ceiling |",
        "| shardserve standalone | 8 |", "| naive server | 8 |", "| bare Akka HTTP route | 8 |",
        "| half_plus_two | 32 |", "| mlp | 32 |", "decoder takes", "## Overload", "## Cold start")) {
      assertTrue(md.contains(s), "the report has '" + s + "':\n" + md);
    }
    assertTrue(!md.contains("## Failed"), md);
  }
}
