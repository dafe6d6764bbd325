package dev.shardserve.downing;

import akka.actor.AbstractExtensionId;
import akka.actor.ActorSystem;
import akka.actor.ExtendedActorSystem;
import akka.actor.Extension;
import akka.actor.ExtensionId;
import akka.actor.ExtensionIdProvider;
import akka.actor.Props;
import akka.cluster.Cluster;
import akka.cluster.ClusterActorRefProvider;
import akka.cluster.sbr.SplitBrainResolver;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import scala.concurrent.duration.FiniteDuration;

/**
 * Runs Akka's split brain resolver actor deciding with {@link WorkerMajority}, on every process
 * (loaded through {@code akka.library-extensions} in {@code shardserve-akka.conf}); the resolver
 * of the leader acts. Its {@code stable-after} is {@code shardserve.sharding.downing.stable-after}.
 * A system that is not a cluster member ({@code provider = local}) runs none.
 *
 * <p>Why not a {@code downing-provider-class} of our own: Akka's join check compares that class
 * (and {@code split-brain-resolver.active-strategy}) between a joining node and the cluster, and
 * refuses to join on a difference, so a rolling upgrade from a release that runs Akka's resolver
 * could never bring in another provider. The provider therefore stays Akka's, disarmed by a
 * {@code stable-after} of ten years, and this extension runs the resolver that decides.
 */
public final class WorkerMajorityDowning implements Extension {
  public static final String STABLE_AFTER = "shardserve.sharding.downing.stable-after";

  /** The extension's id; a public no-argument constructor, so that Akka can load it by name. */
  public static final class Id extends AbstractExtensionId<WorkerMajorityDowning> implements ExtensionIdProvider {
    public static final Id INSTANCE = new Id();

    @Override
    public ExtensionId<WorkerMajorityDowning> lookup() {
      return INSTANCE;
    }

    @Override
    public WorkerMajorityDowning createExtension(ExtendedActorSystem system) {
      return new WorkerMajorityDowning(system);
    }
  }

  private final Duration stableAfter;

  private WorkerMajorityDowning(ExtendedActorSystem system) {
    stableAfter = system.settings().config().getDuration(STABLE_AFTER);
    if (stableAfter.isZero() || stableAfter.isNegative()) {
      throw new IllegalArgumentException(STABLE_AFTER + " must be > 0, was " + stableAfter);
    }
    if (!(system.provider() instanceof ClusterActorRefProvider)) {
      return; // not a cluster member (a local baseline in the benchmarks): nothing to down
    }
    Cluster cluster = Cluster.get(system);
    String role = system.settings().config().getString("shardserve.sharding.worker-role");
    Props props = SplitBrainResolver.props(FiniteDuration.create(stableAfter.toMillis(), TimeUnit.MILLISECONDS),
        new WorkerMajority(cluster.selfDataCenter(), role, cluster.selfUniqueAddress()));
    system.systemActorOf(props, "shardserveSplitBrainResolver");
  }

  public static WorkerMajorityDowning get(ActorSystem system) {
    return Id.INSTANCE.get(system);
  }

  /** How long the membership must be stable before the resolver decides. */
  public Duration stableAfter() {
    return stableAfter;
  }
}
