package dev.shardserve.deploy;

import akka.actor.typed.ActorSystem;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.gateway.Gateway;
import dev.shardserve.gateway.GatewaySettings;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "gateway", mixinStandardHelpOptions = true,
    description = "Run a gateway: the HTTP front door (role gateway); it hosts no models and routes to worker nodes.")
final class GatewayCommand implements Callable<Integer> {
  @Mixin ClusterOptions cluster;
  @Mixin HttpOptions http;
  @Mixin StateOptions state;
  @Mixin ManagementOptions management;
  @Mixin MetricsOptions metrics;
  @Mixin SecurityOptions security;
  @Mixin ClusterTlsOptions clusterTls;
  @Mixin RepositoryRootOptions repositoryRoots;
  @Mixin DrainOptions drain;

  @Override
  public Integer call() {
    Config config;
    try {
      http.validate(repositoryRoots.roots(null));
      security.validate();
      config = cluster.config("gateway", List.of("gateway"))
          .withFallback(ConfigFactory.parseMap(clusterTls.config()))
          .withFallback(ConfigFactory.parseMap(security.config()))
          .withFallback(ConfigFactory.parseMap(repositoryRoots.config()))
          .withFallback(ConfigFactory.parseMap(http.config()))
          .withFallback(ConfigFactory.parseMap(state.config("gateway-" + cluster.arteryPort)))
          .withFallback(ConfigFactory.parseMap(management.config()))
          .withFallback(ConfigFactory.parseMap(metrics.config()))
          .withFallback(ConfigFactory.parseMap(drain.config()));
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      return 2;
    }
    ActorSystem<Void> system = Processes.system(config);
    return Processes.run("gateway", system, () -> {
      Processes.startManagement(system);
      cluster.startDiscovery(system);
      Processes.startMetrics(system);
      Processes.seedDesiredState(system);
      Gateway.Bindings bindings = Processes.await(Gateway.start(system,
          GatewaySettings.fromConfig(system.settings().config())), "binding ports " + http.port + " and " + http.adminPort);
      // ready (Akka Management's /ready) once the request path is warm
      bindings.warmedUp().thenRun(() -> dev.shardserve.node.NodeStatus.get(system).gatewayStarted.set(true));
    });
  }
}
