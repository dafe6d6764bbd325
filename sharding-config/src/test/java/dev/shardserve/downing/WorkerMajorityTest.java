package dev.shardserve.downing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.Address;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.UniqueAddress;
import akka.cluster.sbr.DowningStrategy;
import akka.cluster.sbr.KeepMajority;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.JoinConfigCompatCheckCluster;
import akka.cluster.Valid$;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.settings.ShardServeConfig;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import scala.Option;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The split brain resolver's decision, seen from one side: members on this side are reachable,
 * the others unreachable. {@code DownUnreachable} = this side stays; {@code DownReachable} = this
 * side downs itself. Ports order the addresses (the lowest address wins a full tie).
 */
class WorkerMajorityTest {
  static final Object STAYS = DowningStrategy.DownUnreachable$.MODULE$;
  static final Object DOWNS_ITSELF = DowningStrategy.DownReachable$.MODULE$;

  static Member member(int port, String role, MemberStatus status) {
    Set<String> roles = new HashSet<>(Set.of(role, "dc-default"));
    return new Member(new UniqueAddress(new Address("akka", "shardserve", "127.0.0.1", port), (long) port), port,
        status, CollectionConverters.asScala(roles).toSet(), akka.util.Version.Zero());
  }

  static Member worker(int port) {
    return member(port, "worker", MemberStatus.up());
  }

  static Member gateway(int port) {
    return member(port, "gateway", MemberStatus.up());
  }

  static Object decide(DowningStrategy strategy, List<Member> thisSide, List<Member> otherSide) {
    thisSide.forEach(strategy::add);
    otherSide.forEach(strategy::addUnreachable);
    return strategy.decide();
  }

  static Object workerMajority(List<Member> thisSide, List<Member> otherSide) {
    return decide(new WorkerMajority("default", "worker", thisSide.get(0).uniqueAddress()), thisSide, otherSide);
  }

  final Member g = gateway(25520);
  final Member w1 = worker(25521);
  final Member w2 = worker(25522);

  @Test
  void twoWorkers_eitherCrashes_theGatewayAndTheOtherWorkerStay() {
    assertEquals(STAYS, workerMajority(List.of(g, w2), List.of(w1)), "the lower-addressed worker crashed");
    assertEquals(STAYS, workerMajority(List.of(g, w1), List.of(w2)), "the higher-addressed worker crashed");
    assertEquals(STAYS, workerMajority(List.of(w1, w2), List.of(g)), "the gateway crashed");
  }

  @Test
  void gateways_doNotOutvoteWorkers() {
    Member g2 = gateway(25519);
    Member w3 = worker(25523);
    assertEquals(DOWNS_ITSELF, workerMajority(List.of(g, g2, w1), List.of(w2, w3)));
    assertEquals(STAYS, workerMajority(List.of(w2, w3), List.of(g, g2, w1)));
  }

  @Test
  void equalWorkers_theSideWithMoreMembersStays_thenTheLowestAddress() {
    assertEquals(STAYS, workerMajority(List.of(g, w2), List.of(w1)));
    assertEquals(DOWNS_ITSELF, workerMajority(List.of(w1), List.of(g, w2)));
    Member g2 = gateway(25530);
    assertEquals(STAYS, workerMajority(List.of(g, w2), List.of(g2, w1)), "25520 is the lowest address");
    assertEquals(DOWNS_ITSELF, workerMajority(List.of(g2, w1), List.of(g, w2)));
  }

  @Test
  void aClusterWithoutWorkers_keepsTheMajorityOfItsMembers() {
    Member g2 = gateway(25521);
    Member g3 = gateway(25522);
    assertEquals(STAYS, workerMajority(List.of(g, g2), List.of(g3)));
    assertEquals(DOWNS_ITSELF, workerMajority(List.of(g3), List.of(g, g2)));
  }

  @Test
  void aJoiningMemberOnTheOtherSide_thatCouldTipTheBalance_downsAll() {
    Member joining = member(25523, "worker", MemberStatus.joining());
    // 2 workers here against 1; but if the joining one is Up over there, 2 against 2 and the
    // other side has more members: no safe answer.
    assertEquals(DowningStrategy.DownAll$.MODULE$,
        workerMajority(List.of(w1, w2), List.of(g, worker(25524), joining)));
    // Without the joining member the answer is clear.
    assertEquals(STAYS, workerMajority(List.of(w1, w2), List.of(g, worker(25524))));
  }

  @Test
  void akkasStrategies_wouldDecideWorse_whichIsWhyThisOneExists() {
    // keep-majority over all members (the setting before): gateways keep the side with fewer workers.
    Member g2 = gateway(25519);
    Member w3 = worker(25523);
    assertEquals(STAYS, decide(new KeepMajority("default", Option.empty(), g.uniqueAddress()),
        List.of(g, g2, w1), List.of(w2, w3)));
    // keep-majority with role = worker: two workers, the lower-addressed one crashes, all stop.
    assertEquals(DOWNS_ITSELF, decide(new KeepMajority("default", Option.apply("worker"), g.uniqueAddress()),
        List.of(g, w2), List.of(w1)));
  }

  @Test
  void everyProcess_runsThisResolver_andAkkasIsDisarmed() {
    Config config = ShardServeConfig.load(ConfigFactory.parseString(
        "akka.remote.artery.canonical.port = 0\nakka.logger-startup-timeout = 30s"));
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "WorkerMajorityTest", config);
    try {
      WorkerMajorityDowning downing = WorkerMajorityDowning.get(system.classicSystem());
      assertEquals(Duration.ofSeconds(7), downing.stableAfter());
      assertEquals(Duration.ofSeconds(7), config.getDuration("akka.cluster.down-removal-margin"));
      assertTrue(config.getDuration("akka.cluster.split-brain-resolver.stable-after").toDays() >= 3650);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }

  @Test
  void aLocalSystem_withTheSameSettings_startsWithoutAResolver() {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "WorkerMajorityLocal", ShardServeConfig.load(
        ConfigFactory.parseString("akka.actor.provider = local\nakka.logger-startup-timeout = 30s")));
    try {
      assertEquals(Duration.ofSeconds(7), WorkerMajorityDowning.get(system.classicSystem()).stableAfter());
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }

  /**
   * Akka refuses a joining node whose downing provider or strategy differs from the cluster's: the
   * previous release (1970aee: Akka's provider, keep-majority) and this one accept each other, so
   * a rolling upgrade works.
   */
  @Test
  void thePreviousReleasesNodes_acceptThisReleasesNodes_andTheReverse() {
    Config previous = ConfigFactory.parseString("""
        akka.cluster.downing-provider-class = "akka.cluster.sbr.SplitBrainResolverProvider"
        akka.cluster.split-brain-resolver.active-strategy = keep-majority
        """).withFallback(ConfigFactory.defaultReference()).resolve();
    Config now = ShardServeConfig.load();
    JoinConfigCompatCheckCluster check = new JoinConfigCompatCheckCluster();
    assertEquals(Valid$.MODULE$, check.check(now, previous));
    assertEquals(Valid$.MODULE$, check.check(previous, now));
  }
}
