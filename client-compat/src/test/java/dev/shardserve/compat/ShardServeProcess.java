package dev.shardserve.compat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The product jar started as its own JVM ({@code standalone}) on free ports, its output in a log file. */
final class ShardServeProcess implements AutoCloseable {
  final Process process;
  final int grpcPort;
  final Path log;

  private ShardServeProcess(Process process, int grpcPort, Path log) {
    this.process = process;
    this.grpcPort = grpcPort;
    this.log = log;
  }

  static Path jar() {
    Path jar = Path.of(System.getProperty("shardserve.jar", "../deploy/target/shardserve.jar"));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("the product jar " + jar + " is missing: run 'mvn verify' (it is built by "
          + "the deploy module's package phase)");
    }
    return jar;
  }

  /** Writes the example model half_plus_two into {@code dir}/half_plus_two/1 with the jar's own command. */
  static void writeExampleModel(Path dir) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(java(), "-jar", jar().toString(), "example-model", "--out",
        dir.resolve("half_plus_two").toString()).redirectErrorStream(true)
        .redirectOutput(dir.resolve("example-model.log").toFile()).start();
    if (!p.waitFor(180, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IllegalStateException("example-model failed; see " + dir.resolve("example-model.log"));
    }
  }

  static ShardServeProcess standalone(Path repo, Path work) throws IOException {
    int grpc = freePort();
    Path log = work.resolve("shardserve.log");
    List<String> cmd = new ArrayList<>(List.of(java(), "-Xmx768m", "-jar", jar().toString(), "standalone",
        "--model-repo", repo.toString(), "--host", "127.0.0.1", "--port", Integer.toString(freePort()),
        "--grpc-host", "127.0.0.1", "--grpc-port", Integer.toString(grpc), "--admin-port", "0",
        "--management-port", Integer.toString(freePort()), "--data-dir", work.resolve("data").toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
    return new ShardServeProcess(pb.start(), grpc, log);
  }

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
