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
  final Path log;
  private long peakRssKb;

  /** When the process was started (System.nanoTime), for cold-start times. */
  final long startedNanos;

  private ServerProcess(Process process, int port, Path log, long startedNanos) {
    this.process = process;
    this.port = port;
    this.log = log;
    this.startedNanos = startedNanos;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Runs {@code java [jvmArgs] -jar jar args...} with its output in {@code log}. */
  static ServerProcess start(Path jar, List<String> jvmArgs, List<String> args, int port, Path log)
      throws IOException {
    List<String> launch = new ArrayList<>(jvmArgs);
    launch.add("-jar");
    launch.add(jar.toString());
    return launch(launch, args, port, log);
  }

  /** Runs {@code java [jvmArgs] -cp classpath mainClass args...}: a baseline next to the product's classes. */
  static ServerProcess startMain(String classpath, List<String> jvmArgs, String mainClass, List<String> args,
      int port, Path log) throws IOException {
    List<String> launch = new ArrayList<>(jvmArgs);
    launch.addAll(List.of("-cp", classpath, mainClass));
    return launch(launch, args, port, log);
  }

  private static ServerProcess launch(List<String> launch, List<String> args, int port, Path log) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(launch);
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
    long started = System.nanoTime();
    return new ServerProcess(pb.start(), port, log, started);
  }

  /** Runs a class of the perf jar (a baseline tool) to completion; returns its standard output. */
  static String runMain(String classpath, String mainClass, List<String> args, Path log, int timeoutSeconds)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", classpath, mainClass));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(log.toFile());
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IOException("'" + String.join(" ", cmd) + "' failed; see " + log);
    }
    return new String(out, java.nio.charset.StandardCharsets.UTF_8);
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

  /**
   * Waits until {@code probe} answers 200, or fails after {@code seconds}; returns the seconds
   * from this process's start to that first answer (its cold start).
   */
  double awaitReady(RawHttp probe, int seconds) throws IOException, InterruptedException {
    long until = System.nanoTime() + seconds * 1_000_000_000L;
    while (System.nanoTime() < until) {
      if (!process.isAlive()) {
        throw new IOException("server exited with " + process.exitValue() + "; see " + log);
      }
      try {
        if (probe.send().status() == 200) {
          return (System.nanoTime() - startedNanos) / 1e9;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(20); // polling a process that is starting: no condition to wait on
    }
    throw new IOException("server not ready after " + seconds + " s; see " + log);
  }

  /**
   * Seconds from the start to {@code GET /ready} answering 200 on Akka Management's port (shardserve
   * says ready once its request path is warmed up).
   */
  double awaitManagementReady(int managementPort, int seconds) throws IOException, InterruptedException {
    java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
    java.net.http.HttpRequest ready = java.net.http.HttpRequest.newBuilder(
        java.net.URI.create("http://127.0.0.1:" + managementPort + "/ready")).timeout(java.time.Duration.ofSeconds(5))
        .build();
    long until = System.nanoTime() + seconds * 1_000_000_000L;
    while (System.nanoTime() < until) {
      if (!process.isAlive()) {
        throw new IOException("server exited with " + process.exitValue() + "; see " + log);
      }
      try {
        if (client.send(ready, java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return (System.nanoTime() - startedNanos) / 1e9;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(50); // polling a process that is starting: no condition to wait on
    }
    throw new IOException("server not ready (/ready on port " + managementPort + ") after " + seconds + " s; see " + log);
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

  /** The process's threads now, from /proc: a count per name, trailing numbers dropped. */
  java.util.Map<String, Integer> threadsByName() {
    java.util.Map<String, Integer> out = new java.util.TreeMap<>();
    try (var tasks = Files.list(Path.of("/proc", Long.toString(process.pid()), "task"))) {
      for (Path t : tasks.toList()) {
        try {
          String name = Files.readString(t.resolve("comm")).trim().replaceAll("[-#]?[0-9]+$", "");
          out.merge(name, 1, Integer::sum);
        } catch (IOException e) {
          // the thread ended meanwhile
        }
      }
    } catch (IOException e) {
      // the process has gone
    }
    return out;
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
