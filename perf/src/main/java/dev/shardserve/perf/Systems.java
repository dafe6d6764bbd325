package dev.shardserve.perf;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts each system under test as separate processes on 127.0.0.1 and measures its cold start:
 * the seconds from the first process's start to the first 200 answered for a model.
 */
final class Systems {
  /** One system, running: its processes (whose CPU and memory are summed) and the port clients use. */
  /**
   * A system that answers. {@code coldStartSeconds}: from its process's start to its first answer;
   * {@code readySeconds}: to its readiness (Akka Management's {@code /ready}, which shardserve says
   * once its request path is warmed up) where it has one, else its first answer. A balancer or a
   * Kubernetes Service sends load only from then on, and so do the measurements.
   */
  record Running(String name, List<ServerProcess> processes, int port, double coldStartSeconds, int grpcPort,
      double readySeconds) implements AutoCloseable {
    double cpuSeconds() {
      return processes.stream().mapToDouble(ServerProcess::cpuSeconds).sum();
    }

    /** Threads of its first process now, counted by name with trailing numbers dropped. */
    java.util.Map<String, Integer> threadsByName() {
      return processes.get(0).threadsByName();
    }

    /** Resident memory of all its processes now (KiB). */
    long rssKb() {
      return processes.stream().mapToLong(ServerProcess::rssKb).sum();
    }

    @Override
    public void close() throws InterruptedException {
      for (int i = processes.size() - 1; i >= 0; i--) {
        processes.get(i).close();
      }
    }
  }

  private final Path jar;
  private final String classpath;
  private final Path work;
  private final Path repo;
  private final int readySeconds;

  /** {@code perfJar} joins the product jar on the classpath of the baselines. */
  Systems(Path jar, Path perfJar, Path work, Path repo, int readySeconds) {
    this.jar = jar;
    this.classpath = jar + java.io.File.pathSeparator + perfJar;
    this.work = work;
    this.repo = repo;
    this.readySeconds = readySeconds;
  }

  String classpath() {
    return classpath;
  }

  /** shardserve {@code standalone}: one JVM, the gateway and a worker node in it (gRPC on its own free port). */
  Running standalone(RawHttp.Request probe) throws IOException, InterruptedException {
    return standalone(probe, "shardserve standalone", List.of());
  }

  /** {@code standalone} named {@code name}, with {@code jvmOptions} (e.g. a -D setting) added. */
  Running standalone(RawHttp.Request probe, String name, List<String> jvmOptions)
      throws IOException, InterruptedException {
    int port = ServerProcess.freePort();
    int grpc = ServerProcess.freePort();
    int management = ServerProcess.freePort();
    List<String> jvm = new ArrayList<>(List.of("-Xmx1g"));
    jvm.addAll(jvmOptions);
    ServerProcess p = ServerProcess.start(jar, jvm, List.of("standalone", "--host", "127.0.0.1",
        "--port", Integer.toString(port), "--admin-port", "0", "--model-repo", repo.toString(),
        "--metrics-port", "0", "--metrics-host", "127.0.0.1",
        "--grpc-host", "127.0.0.1", "--grpc-port", Integer.toString(grpc),
        "--management-port", Integer.toString(management),
        "--data-dir", fresh("standalone-data").toString()), port,
        work.resolve(name.replaceAll("[^A-Za-z0-9]+", "-") + ".log"));
    Running r = ready(name, List.of(p), p, port, probe, management);
    return new Running(r.name(), r.processes(), r.port(), r.coldStartSeconds(), grpc, r.readySeconds());
  }

  /** shardserve as a cluster on this machine: one gateway and two worker nodes, each its own JVM. */
  Running cluster(RawHttp.Request probe) throws IOException, InterruptedException {
    int port = ServerProcess.freePort();
    int gatewayArtery = ServerProcess.freePort();
    int gatewayManagement = ServerProcess.freePort();
    String seed = "127.0.0.1:" + gatewayArtery;
    List<ServerProcess> all = new ArrayList<>();
    try {
      ServerProcess gateway = ServerProcess.start(jar, List.of("-Xmx384m"), List.of("gateway", "--seed", seed,
          "--artery-port", Integer.toString(gatewayArtery), "--host", "127.0.0.1", "--port", Integer.toString(port),
          "--grpc-port", "-1",
          "--admin-port", Integer.toString(ServerProcess.freePort()),
          "--management-port", Integer.toString(gatewayManagement),
          "--metrics-port", "0", "--metrics-host", "127.0.0.1",
          "--data-dir", fresh("gateway-data").toString()), port, work.resolve("cluster-gateway.log"));
      all.add(gateway);
      for (int i = 1; i <= 2; i++) {
        all.add(ServerProcess.start(jar, List.of("-Xmx768m"), List.of("node", "--seed", seed,
            "--artery-port", Integer.toString(ServerProcess.freePort()), "--model-repo", repo.toString(),
            "--admin-port", Integer.toString(ServerProcess.freePort()),
            "--management-port", Integer.toString(ServerProcess.freePort()),
            "--metrics-port", "0", "--metrics-host", "127.0.0.1",
            "--data-dir", fresh("node-" + i + "-data").toString()), -1, work.resolve("cluster-node-" + i + ".log")));
      }
      return ready("shardserve gateway + 2 nodes", all, gateway, port, probe, gatewayManagement);
    } catch (IOException | RuntimeException e) {
      for (ServerProcess p : all) {
        p.close();
      }
      throw e;
    }
  }

  /** Baseline 2: the hand-written JDK HttpServer, with TensorFlow's threads set as {@code threads} says. */
  Running naive(String threads, RawHttp.Request probe) throws IOException, InterruptedException {
    int port = ServerProcess.freePort();
    ServerProcess p = ServerProcess.startMain(classpath, List.of("-Xmx1g"), "dev.shardserve.perf.baseline.NaiveServer",
        List.of("--port", Integer.toString(port), "--model-repo", repo.toString(), "--threads", threads), port,
        work.resolve("naive-" + threads + ".log"));
    return ready(threads.equals("default") ? "naive server (TF default threads)" : "naive server", List.of(p), p, port,
        probe, -1);
  }

  /** The HTTP ceiling: a bare Akka HTTP route answering a constant. */
  Running constant(RawHttp.Request probe) throws IOException, InterruptedException {
    int port = ServerProcess.freePort();
    ServerProcess p = ServerProcess.startMain(classpath, List.of("-Xmx512m"),
        "dev.shardserve.perf.baseline.ConstantRoute", List.of("--port", Integer.toString(port)), port,
        work.resolve("constant-route.log"));
    return ready("bare Akka HTTP route", List.of(p), p, port, probe, -1);
  }

  private Running ready(String name, List<ServerProcess> processes, ServerProcess front, int port,
      RawHttp.Request probe, int managementPort) throws IOException, InterruptedException {
    try (RawHttp http = probe.connect(port)) {
      for (ServerProcess p : processes) {
        if (!p.process.isAlive()) {
          throw new IOException(name + ": a process exited with " + p.process.exitValue() + "; see " + p.log);
        }
      }
      double cold = front.awaitReady(http, readySeconds);
      double ready = managementPort > 0 ? front.awaitManagementReady(managementPort, readySeconds) : cold;
      return new Running(name, processes, port, cold, -1, ready);
    } catch (IOException | RuntimeException e) {
      for (ServerProcess p : processes) {
        p.close();
      }
      throw e;
    }
  }

  private Path fresh(String name) {
    return work.resolve(name + "-" + System.nanoTime());
  }
}
