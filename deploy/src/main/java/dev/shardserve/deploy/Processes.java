package dev.shardserve.deploy;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.Config;
import dev.shardserve.desired.DesiredState;
import dev.shardserve.desired.DesiredStateStore;
import dev.shardserve.desired.ModelConfigSource;
import java.time.Duration;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import dev.shardserve.settings.ShardServeConfig;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Starting and running one process's actor system: the same name everywhere, config from the command line. */
final class Processes {
  private static final Logger log = LoggerFactory.getLogger(Processes.class);
  static final String SYSTEM_NAME = "shardserve";

  private Processes() {}

  static ActorSystem<Void> system(Config overrides) {
    Config config = ShardServeConfig.load(overrides.withFallback(com.typesafe.config.ConfigFactory.parseMap(
        java.util.Map.of("akka.management.health-checks.readiness-checks.shardserve",
            ProcessReadiness.class.getName()))));
    return ActorSystem.create(Behaviors.empty(), SYSTEM_NAME, config);
  }

  /** A one-node cluster: the process joins itself. */
  static void joinSelf(ActorSystem<?> system) {
    Cluster cluster = Cluster.get(system);
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
  }

  /** How long seeding waits for this process to join the cluster before it writes the file's state anyway. */
  static final Duration SEED_JOIN_TIMEOUT = Duration.ofSeconds(30);

  /**
   * Seeds the desired state from the model config file (or TF Serving's environment variables)
   * when the cluster has none: not when this process stored one (its data dir), nor when the
   * cluster holds one, read after joining (a gateway restarted with an empty data dir must not
   * undo the admin changes the workers hold). Afterwards admin changes win and only
   * reload-config applies the file again.
   */
  static void seedDesiredState(ActorSystem<?> system) {
    Supplier<DesiredState> source = ModelConfigSource.of(system.settings().config(), System.getenv());
    if (source == null) {
      return;
    }
    DesiredState state = source.get();
    DesiredStateStore.SeedOutcome outcome = await(new DesiredStateStore(system, Duration.ofSeconds(10))
        .seed(state, SEED_JOIN_TIMEOUT), "seeding the desired state");
    switch (outcome) {
      case WRITTEN -> log.info("desired state seeded from the model config: models {}", state.models().keySet());
      case WRITTEN_UNCONFIRMED -> log.warn("desired state seeded from the model config (models {}) without an "
          + "answer from the cluster: any desired state the cluster holds wins over it", state.models().keySet());
      case KEPT_STORED -> log.info("desired state stored in the data dir is kept (admin changes win): the model "
          + "config file was not applied; POST /admin/reload-config applies it");
      case KEPT_CLUSTER -> log.info("the cluster's desired state is kept (admin changes win): the model config "
          + "file was not applied; POST /admin/reload-config applies it");
    }
  }

  /**
   * Starts Akka Management (health checks and cluster routes, read-only). A port already in use
   * is logged, not fatal: inference does not depend on it.
   */
  static void startManagement(ActorSystem<?> system) {
    akka.management.javadsl.AkkaManagement.get(system.classicSystem()).start().whenComplete((uri, error) -> {
      if (error != null) {
        log.warn("Akka Management did not start: {}", error.toString());
      } else {
        log.info("Akka Management on {} (/alive, /ready, /cluster/members)", uri);
      }
    });
  }

  /**
   * Starts the metrics listener (GET /metrics) unless {@code shardserve.metrics.port} is -1, and
   * the metrics extension with its cluster listener (member gauge, node join/leave lines). A port
   * already in use is logged, not fatal: inference does not depend on it.
   */
  static void startMetrics(ActorSystem<?> system) {
    dev.shardserve.metrics.ShardServeMetrics metrics = dev.shardserve.metrics.ShardServeMetrics.get(system);
    if (metrics.settings().listenerEnabled()) {
      dev.shardserve.gateway.metrics.MetricsListener.start(system, metrics.settings());
    }
  }

  static <T> T await(CompletionStage<T> stage, String what) {
    try {
      return stage.toCompletableFuture().get(120, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for " + what, e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(what + " failed: " + (e.getCause() != null ? e.getCause() : e), e);
    }
  }

  /**
   * Runs {@code start}, then blocks until the system terminates (SIGTERM runs Coordinated
   * Shutdown). Exit code 0 after a normal run, 1 when the start failed (the reason is printed).
   */
  static int run(String process, ActorSystem<?> system, Runnable start) {
    try {
      start.run();
    } catch (RuntimeException e) {
      System.err.println(process + " failed to start: " + e.getMessage());
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
      return 1;
    }
    system.getWhenTerminated().toCompletableFuture().join();
    return 0;
  }
}
