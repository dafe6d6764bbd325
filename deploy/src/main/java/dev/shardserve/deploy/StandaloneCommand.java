package dev.shardserve.deploy;

import akka.actor.typed.ActorSystem;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.gateway.Gateway;
import dev.shardserve.gateway.GatewaySettings;
import dev.shardserve.node.NodeSettings;
import dev.shardserve.node.WorkerNode;
import dev.shardserve.node.examples.HalfPlusTwoModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "standalone", mixinStandardHelpOptions = true,
    description = "Serve a model repository from one JVM: a one-node cluster with roles worker and gateway.")
final class StandaloneCommand implements Callable<Integer> {
  static final Path DEFAULT_REPO = Path.of("models");

  @Option(names = "--model-repo", paramLabel = "DIR", defaultValue = "${env:SHARDSERVE_MODEL_REPO}",
      description = "Model repository: DIR/<model>/<version>/saved_model.pb (env SHARDSERVE_MODEL_REPO). "
          + "Without it, ./models is served, and the example model half_plus_two is written there "
          + "first if that folder does not exist.")
  Path modelRepo;

  @Option(names = "--port", defaultValue = "${env:SHARDSERVE_PORT:-8501}",
      description = "Inference HTTP port (env SHARDSERVE_PORT; default ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--host", defaultValue = "${env:SHARDSERVE_HOST:-0.0.0.0}",
      description = "Interface the inference listener binds (env SHARDSERVE_HOST; default ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--artery-port", defaultValue = "${env:SHARDSERVE_ARTERY_PORT:-0}",
      description = "Cluster remoting port; 0 picks a free one (env SHARDSERVE_ARTERY_PORT; default ${DEFAULT-VALUE}).")
  int arteryPort;

  @Override
  public Integer call() {
    Path repo = modelRepo;
    if (repo == null) {
      repo = DEFAULT_REPO;
      if (!Files.exists(repo)) {
        System.out.println("No ./models folder: writing the example model to " + repo.resolve("half_plus_two/1"));
        HalfPlusTwoModel.write(repo.resolve("half_plus_two").resolve("1"));
      }
    }
    if (!Files.isDirectory(repo)) {
      System.err.println("--model-repo: '" + repo + "' is not a folder");
      return 2;
    }
    ActorSystem<Void> system = Processes.system(ConfigFactory.parseMap(Map.of(
        "akka.remote.artery.canonical.hostname", "127.0.0.1",
        "akka.remote.artery.canonical.port", arteryPort,
        "akka.cluster.roles", List.of("worker", "gateway"),
        "shardserve.node.model-repository", repo.toAbsolutePath().toString(),
        "shardserve.gateway.host", host,
        "shardserve.gateway.port", port)));
    try {
      Processes.joinSelf(system);
      Processes.await(WorkerNode.start(system, NodeSettings.fromConfig(system.settings().config())),
          "publishing the model catalog");
      Processes.await(Gateway.start(system, GatewaySettings.fromConfig(system.settings().config())),
          "binding port " + port);
    } catch (RuntimeException e) {
      System.err.println("standalone failed to start: " + e.getMessage());
      system.terminate();
      return 1;
    }
    return Processes.runUntilTerminated(system);
  }
}
