package dev.shardserve.deploy;

import akka.actor.typed.ActorSystem;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.gateway.Gateway;
import dev.shardserve.gateway.GatewaySettings;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "gateway", mixinStandardHelpOptions = true,
    description = "Run a gateway: the HTTP front door (role gateway); it hosts no models and routes to worker nodes.")
final class GatewayCommand implements Callable<Integer> {
  @Mixin ClusterOptions cluster;

  @Option(names = "--port", defaultValue = "${env:SHARDSERVE_PORT:-8501}",
      description = "Inference HTTP port (env SHARDSERVE_PORT; default ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--host", defaultValue = "${env:SHARDSERVE_HOST:-0.0.0.0}",
      description = "Interface the inference listener binds (env SHARDSERVE_HOST; default ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--artery-port", defaultValue = "${env:SHARDSERVE_ARTERY_PORT:-25520}",
      description = "Cluster remoting port (env SHARDSERVE_ARTERY_PORT; default ${DEFAULT-VALUE}).")
  int arteryPort;

  @Override
  public Integer call() {
    if (!cluster.hasSeeds()) {
      System.err.println("gateway needs --seed HOST:PORT (or SHARDSERVE_SEEDS): the cluster to join");
      return 2;
    }
    Config clusterConfig;
    try {
      clusterConfig = cluster.config(arteryPort, List.of("gateway"));
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      return 2;
    }
    ActorSystem<Void> system = Processes.system(clusterConfig.withFallback(ConfigFactory.parseMap(Map.of(
            "shardserve.gateway.host", host,
            "shardserve.gateway.port", port))));
    try {
      Processes.await(Gateway.start(system, GatewaySettings.fromConfig(system.settings().config())),
          "binding port " + port);
    } catch (RuntimeException e) {
      System.err.println("gateway failed to start: " + e.getMessage());
      system.terminate();
      return 1;
    }
    return Processes.runUntilTerminated(system);
  }
}
