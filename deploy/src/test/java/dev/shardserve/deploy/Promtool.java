package dev.shardserve.deploy;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Runs Prometheus's {@code promtool} (Debian package {@code prometheus}; {@code .ci/run} installs
 * it when it can): {@code check config}, {@code check rules}, {@code test rules}, and
 * {@code check metrics} on a scrape (its linter: names, suffixes, units, help). Tests skip with
 * a message when it is absent.
 */
final class Promtool {
  record Result(int exit, String output) {
    boolean ok() {
      return exit == 0;
    }
  }

  private final Path binary;

  private Promtool(Path binary) {
    this.binary = binary;
  }

  /** promtool from the PATH, if there is one. */
  static Optional<Promtool> find() {
    return onPath("promtool").map(Promtool::new);
  }

  /** An executable named {@code name} in a folder of the PATH. */
  static Optional<Path> onPath(String name) {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String dir : path.split(File.pathSeparator)) {
      Path p = Path.of(dir).resolve(name);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  Result checkConfig(Path config) throws IOException, InterruptedException {
    return run(null, "check", "config", config.toString());
  }

  Result checkRules(Path rules) throws IOException, InterruptedException {
    return run(null, "check", "rules", rules.toString());
  }

  Result testRules(Path tests) throws IOException, InterruptedException {
    return run(null, "test", "rules", tests.toString());
  }

  /** {@code promtool check metrics} on one scrape in the Prometheus text format (read from stdin). */
  Result checkMetrics(String scrape) throws IOException, InterruptedException {
    return run(scrape, "check", "metrics");
  }

  private Result run(String stdin, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(binary.toString());
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    if (stdin != null) {
      try (var in = p.getOutputStream()) {
        in.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
    } else {
      p.getOutputStream().close();
    }
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("promtool " + String.join(" ", args) + " did not finish within 60 s");
    }
    return new Result(p.exitValue(), output);
  }
}
