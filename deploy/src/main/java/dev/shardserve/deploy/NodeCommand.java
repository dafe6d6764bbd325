package dev.shardserve.deploy;

import akka.actor.typed.ActorSystem;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.node.NodeSettings;
import dev.shardserve.node.WorkerNode;
import dev.shardserve.node.runtime.NodeDevices;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "node", mixinStandardHelpOptions = true,
    description = "Run a worker node: it hosts model replicas (role worker, and gpu when it has GPUs) and joins "
        + "the cluster at --seed.")
final class NodeCommand implements Callable<Integer> {
  @Mixin ClusterOptions cluster;
  @Mixin StateOptions state;
  @Mixin ManagementOptions management;
  @Mixin MetricsOptions metrics;
  @Mixin SecurityOptions security;
  @Mixin ClusterTlsOptions clusterTls;
  @Mixin RepositoryRootOptions repositoryRoots;
  @Mixin DrainOptions drain;
  @Mixin GpuOptions gpus;

  @Option(names = "--admin-port", defaultValue = "${env:SHARDSERVE_ADMIN_PORT:-8502}",
      description = "This node's admin listener: GET /admin/node, POST /admin/drain (env SHARDSERVE_ADMIN_PORT; "
          + "default ${DEFAULT-VALUE}; 0 picks a free one).")
  int adminPort;

  @Option(names = "--admin-host", defaultValue = "${env:SHARDSERVE_ADMIN_HOST:-127.0.0.1}",
      description = "Interface the node's admin listener binds (default ${DEFAULT-VALUE}).")
  String adminHost;

  @Option(names = "--model-repo", paramLabel = "DIR", defaultValue = "${env:SHARDSERVE_MODEL_REPO:-models}",
      description = "Model repository, the same on every node (env SHARDSERVE_MODEL_REPO; default ${DEFAULT-VALUE}).")
  Path modelRepo;

  @Override
  public Integer call() {
    Config config;
    try {
      if (!Files.isDirectory(modelRepo)) {
        throw new IllegalArgumentException("--model-repo: '" + modelRepo + "' is not a folder");
      }
      security.validate();
      NodeDevices devices = gpus.devices();
      config = cluster.config("node", devices.roles(List.of("worker")))
          .withFallback(ConfigFactory.parseMap(devices.config()))
          .withFallback(ConfigFactory.parseMap(clusterTls.config()))
          .withFallback(ConfigFactory.parseMap(security.config()))
          .withFallback(ConfigFactory.parseMap(repositoryRoots.config()))
          .withFallback(ConfigFactory.parseMap(Map.of(
          "shardserve.node.model-repository", modelRepo.toAbsolutePath().toString())))
          .withFallback(ConfigFactory.parseMap(state.config("node-" + cluster.arteryPort)))
          .withFallback(ConfigFactory.parseMap(management.config()))
          .withFallback(ConfigFactory.parseMap(metrics.config()))
          .withFallback(ConfigFactory.parseMap(drain.config()));
      if (adminPort < 0 || adminPort > 65535) {
        throw new IllegalArgumentException("--admin-port must be 0-65535, was " + adminPort);
      }
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      return 2;
    }
    ActorSystem<Void> system = Processes.system(config);
    system.log().info("roles {}, GPUs advertised: {}", system.settings().config().getStringList("akka.cluster.roles"),
        system.settings().config().getInt("shardserve.node.capacity.gpus"));
    return Processes.run("node", system, () -> {
      Processes.startManagement(system);
      cluster.startDiscovery(system);
      Processes.startMetrics(system);
      Processes.await(NodeAdmin.start(system, adminHost, adminPort), "binding the admin port " + adminPort);
      Processes.await(WorkerNode.start(system, NodeSettings.fromConfig(system.settings().config())),
          "publishing the model catalog");
    });
  }
}
