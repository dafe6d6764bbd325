package dev.shardserve.deploy;

import akka.actor.typed.ActorSystem;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.node.NodeSettings;
import dev.shardserve.node.WorkerNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "node", mixinStandardHelpOptions = true,
    description = "Run a worker node: it hosts model replicas (role worker) and joins the cluster at --seed.")
final class NodeCommand implements Callable<Integer> {
  @Mixin ClusterOptions cluster;

  @Option(names = "--model-repo", paramLabel = "DIR", defaultValue = "${env:SHARDSERVE_MODEL_REPO:-models}",
      description = "Model repository, the same on every node (env SHARDSERVE_MODEL_REPO; default ${DEFAULT-VALUE}).")
  Path modelRepo;

  @Option(names = "--artery-port", defaultValue = "${env:SHARDSERVE_ARTERY_PORT:-25520}",
      description = "Cluster remoting port (env SHARDSERVE_ARTERY_PORT; default ${DEFAULT-VALUE}).")
  int arteryPort;

  @Override
  public Integer call() {
    if (!cluster.hasSeeds()) {
      System.err.println("node needs --seed HOST:PORT (or SHARDSERVE_SEEDS): the cluster to join");
      return 2;
    }
    if (!Files.isDirectory(modelRepo)) {
      System.err.println("--model-repo: '" + modelRepo + "' is not a folder");
      return 2;
    }
    Config clusterConfig;
    try {
      clusterConfig = cluster.config(arteryPort, List.of("worker"));
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      return 2;
    }
    ActorSystem<Void> system = Processes.system(clusterConfig.withFallback(ConfigFactory.parseMap(Map.of(
            "shardserve.node.model-repository", modelRepo.toAbsolutePath().toString()))));
    try {
      Processes.await(WorkerNode.start(system, NodeSettings.fromConfig(system.settings().config())),
          "publishing the model catalog");
    } catch (RuntimeException e) {
      System.err.println("node failed to start: " + e.getMessage());
      system.terminate();
      return 1;
    }
    return Processes.runUntilTerminated(system);
  }
}
