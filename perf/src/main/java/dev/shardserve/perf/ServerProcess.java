package dev.shardserve.perf;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The product jar started as a separate process on this machine (127.0.0.1 only), and stopped. */
final class ServerProcess implements AutoCloseable {
  final Process process;
  final int port;
  private final Path log;
  private long peakRssKb;

  private ServerProcess(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Runs {@code java [jvmArgs] -jar jar args...} with its output in {@code log}. */
  static ServerProcess start(Path jar, List<String> jvmArgs, List<String> args, int port, Path log)
      throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmArgs);
    cmd.add("-jar");
    cmd.add(jar.toString());
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
    return new ServerProcess(pb.start(), port, log);
  }

  /** Runs a one-off command of the jar (e.g. example-model) and waits for it. */
  static void runJar(Path jar, List<String> args, Path log) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", jar.toString()));
    cmd.addAll(args);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IOException("'" + String.join(" ", cmd) + "' failed; see " + log);
    }
  }

  /** Waits until {@code probe} answers 200, or fails after {@code seconds}. */
  void awaitReady(RawHttp probe, int seconds) throws IOException, InterruptedException {
    long until = System.nanoTime() + seconds * 1_000_000_000L;
    while (System.nanoTime() < until) {
      if (!process.isAlive()) {
        throw new IOException("server exited with " + process.exitValue() + "; see " + log);
      }
      try {
        if (probe.send().status() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(100); // polling a process that is starting: no condition to wait on
    }
    throw new IOException("server not ready after " + seconds + " s; see " + log);
  }

  /** Resident memory of the server now (KiB), remembering the peak. */
  long rssKb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
        if (line.startsWith("VmRSS:")) {
          long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
          peakRssKb = Math.max(peakRssKb, kb);
          return kb;
        }
      }
    } catch (IOException | RuntimeException e) {
      // the process has gone
    }
    return -1;
  }

  long peakRssKb() {
    return peakRssKb;
  }

  /** CPU seconds the server process has used (user + system), from /proc. */
  double cpuSeconds() {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
