package dev.shardserve.deploy;

import akka.actor.typed.ActorSystem;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.gateway.Gateway;
import dev.shardserve.gateway.GatewaySettings;
import dev.shardserve.node.NodeSettings;
import dev.shardserve.node.WorkerNode;
import dev.shardserve.node.examples.HalfPlusTwoModel;
import dev.shardserve.node.runtime.NodeDevices;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "standalone", mixinStandardHelpOptions = true,
    description = "Serve a model repository from one JVM: a one-node cluster with roles worker and gateway (and gpu "
        + "when it has GPUs).")
final class StandaloneCommand implements Callable<Integer> {
  static final Path DEFAULT_REPO = Path.of("models");

  @Mixin HttpOptions http;
  @Mixin StateOptions state;
  @Mixin ManagementOptions management;
  @Mixin MetricsOptions metrics;
  @Mixin SecurityOptions security;
  @Mixin ClusterTlsOptions clusterTls;
  @Mixin RepositoryRootOptions repositoryRoots;
  @Mixin DrainOptions drain;
  @Mixin GpuOptions gpus;

  @Option(names = "--model-repo", paramLabel = "DIR", defaultValue = "${env:SHARDSERVE_MODEL_REPO}",
      description = "Model repository: DIR/<model>/<version>/saved_model.pb (env SHARDSERVE_MODEL_REPO). "
          + "Without it, ./models is served, and the example model half_plus_two is written there "
          + "first if that folder does not exist.")
  Path modelRepo;

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
    Map<String, Object> config = new HashMap<>(http.config());
    config.putAll(state.config("standalone"));
    NodeDevices devices;
    try {
      http.validate(repositoryRoots.roots(repo));
      security.validate();
      config.putAll(management.config());
      config.putAll(metrics.config());
      config.putAll(security.config());
      config.putAll(clusterTls.config());
      config.putAll(repositoryRoots.config());
      config.putAll(drain.config());
      devices = gpus.devices();
      config.putAll(devices.config());
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      return 2;
    }
    config.put("akka.remote.artery.canonical.hostname", "127.0.0.1");
    config.put("akka.remote.artery.canonical.port", arteryPort);
    config.put("akka.cluster.roles", devices.roles(List.of("worker", "gateway")));
    config.put("shardserve.node.model-repository", repo.toAbsolutePath().toString());
    ActorSystem<Void> system = Processes.system(ConfigFactory.parseMap(config));
    return Processes.run("standalone", system, () -> {
      Processes.joinSelf(system);
      Processes.startManagement(system);
      Processes.startMetrics(system);
      Processes.seedDesiredState(system);
      // The worker first: it initialises the model region that the gateway then finds.
      Processes.await(WorkerNode.start(system, NodeSettings.fromConfig(system.settings().config())),
          "publishing the model catalog");
      Gateway.Bindings bindings = Processes.await(Gateway.start(system,
          GatewaySettings.fromConfig(system.settings().config())), "binding port " + http.port);
      // ready (Akka Management's /ready) once the request path is warm
      bindings.warmedUp().thenRun(() -> dev.shardserve.node.NodeStatus.get(system).gatewayStarted.set(true));
    });
  }
}
