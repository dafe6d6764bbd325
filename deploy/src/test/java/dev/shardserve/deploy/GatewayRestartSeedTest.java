package dev.shardserve.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.awaitility.Awaitility.await;

import akka.actor.typed.ActorSystem;
import akka.cluster.ddata.LWWRegister;
import akka.cluster.ddata.typed.javadsl.DistributedData;
import akka.cluster.ddata.typed.javadsl.Replicator;
import akka.actor.typed.javadsl.AskPattern;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.desired.DesiredState;
import dev.shardserve.desired.DesiredStateStore;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.desired.VersionPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gateway restarted with an empty data dir and its model config file joins a cluster that
 * holds admin changes: the file seeds nothing, the changes survive (two ActorSystems in this
 * JVM: a worker holding the desired state, and the gateway, through {@code seedDesiredState}
 * as {@code gateway} runs it).
 */
class GatewayRestartSeedTest {
  @TempDir Path tmp;
  final List<ActorSystem<?>> systems = new ArrayList<>();

  @AfterEach
  void stop() {
    for (ActorSystem<?> s : systems) {
      s.terminate();
      s.getWhenTerminated().toCompletableFuture().join();
    }
  }

  ActorSystem<Void> system(String role, Map<String, Object> extra) {
    Map<String, Object> config = new java.util.HashMap<>(Map.of(
        "akka.remote.artery.canonical.port", 0,
        "akka.cluster.roles", List.of(role)));
    config.putAll(extra);
    ActorSystem<Void> s = Processes.system(ConfigFactory.parseMap(config));
    systems.add(s);
    DistributedData.get(s); // every process runs its replicator (a worker's publisher, a gateway's views)
    return s;
  }

  static DesiredState local(ActorSystem<?> system) throws Exception {
    Replicator.GetResponse<LWWRegister<DesiredState>> r = AskPattern.<Replicator.Command,
        Replicator.GetResponse<LWWRegister<DesiredState>>>ask(DistributedData.get(system).replicator(),
        replyTo -> new Replicator.Get<>(DesiredState.KEY, Replicator.readLocal(), replyTo),
        Duration.ofSeconds(5), system.scheduler()).toCompletableFuture().get(10, TimeUnit.SECONDS);
    return r instanceof Replicator.GetSuccess<LWWRegister<DesiredState>> ok ? ok.dataValue().getValue() : null;
  }

  Path configFile() throws Exception {
    Path file = tmp.resolve("models.conf");
    Files.writeString(file, "models { m { replicas = 1 }, from_file { } }");
    return file;
  }

  @Test
  void aRestartedGateway_withItsConfigFile_keepsTheClustersAdminChanges() throws Exception {
    ActorSystem<Void> worker = system("worker", Map.of());
    Cluster.get(worker).manager().tell(Join.create(Cluster.get(worker).selfMember().address()));
    // Admin changes made earlier through the gateway that is now restarting.
    DesiredState admin = new DesiredStateStore(worker, Duration.ofSeconds(5)).update(s -> s.with("m",
        ModelSpec.DEFAULT.withReplicas(3).withPolicy(new VersionPolicy.Specific(new TreeSet<>(Set.of(7L))))
            .withLabel("stable", 7L))).toCompletableFuture().get(30, TimeUnit.SECONDS).state();

    ActorSystem<Void> gateway = system("gateway", Map.of("shardserve.model-config", configFile().toString()));
    Cluster.get(gateway).manager().tell(Join.create(Cluster.get(worker).selfMember().address()));
    Processes.seedDesiredState(gateway);

    // Both replicas agree (gossip has run both ways), on the admin's state.
    await().atMost(Duration.ofSeconds(30)).until(() -> admin.equals(local(gateway)));
    assertEquals(admin, local(worker));
  }

  @Test
  void aNewCluster_isSeededFromTheGatewaysFile() throws Exception {
    ActorSystem<Void> worker = system("worker", Map.of());
    Cluster.get(worker).manager().tell(Join.create(Cluster.get(worker).selfMember().address()));
    ActorSystem<Void> gateway = system("gateway", Map.of("shardserve.model-config", configFile().toString()));
    Cluster.get(gateway).manager().tell(Join.create(Cluster.get(worker).selfMember().address()));
    Processes.seedDesiredState(gateway);

    DesiredState seeded = local(gateway);
    assertEquals(Set.of("m", "from_file"), seeded.models().keySet());
    await().atMost(Duration.ofSeconds(30)).until(() -> seeded.equals(local(worker)));
    // An admin change afterwards wins over the seed, everywhere.
    DesiredState changed = new DesiredStateStore(worker, Duration.ofSeconds(5))
        .update(s -> s.with("m", s.models().get("m").withReplicas(2))).toCompletableFuture()
        .get(30, TimeUnit.SECONDS).state();
    await().atMost(Duration.ofSeconds(30)).until(() -> changed.equals(local(gateway)));
  }

  @Test
  void aSeedWrittenBeforeJoining_losesToTheClustersStateWhenTheyMeet() throws Exception {
    ActorSystem<Void> worker = system("worker", Map.of());
    Cluster.get(worker).manager().tell(Join.create(Cluster.get(worker).selfMember().address()));
    DesiredState admin = new DesiredStateStore(worker, Duration.ofSeconds(5))
        .update(s -> s.with("m", ModelSpec.DEFAULT.withReplicas(4))).toCompletableFuture()
        .get(30, TimeUnit.SECONDS).state();

    // A gateway that cannot join in time writes the file's state anyway ...
    ActorSystem<Void> gateway = system("gateway", Map.of());
    DesiredState file = new DesiredState(false, new java.util.TreeMap<>(Map.of("from_file", ModelSpec.DEFAULT)));
    assertEquals(DesiredStateStore.SeedOutcome.WRITTEN_UNCONFIRMED, new DesiredStateStore(gateway,
        Duration.ofSeconds(2)).seed(file, Duration.ofMillis(500)).toCompletableFuture().get(30, TimeUnit.SECONDS));
    assertEquals(file, local(gateway));
    // ... with the lowest timestamp: once it joins, the cluster's state wins on both sides.
    Cluster.get(gateway).manager().tell(Join.create(Cluster.get(worker).selfMember().address()));
    await().atMost(Duration.ofSeconds(30)).until(() -> admin.equals(local(gateway)));
    assertEquals(admin, local(worker));
  }
}
