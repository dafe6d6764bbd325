package dev.shardserve.downing;

import akka.actor.ActorSystem;
import akka.actor.Props;
import akka.cluster.Cluster;
import akka.cluster.DowningProvider;
import akka.cluster.sbr.SplitBrainResolver;
import akka.cluster.sbr.SplitBrainResolverSettings;
import scala.Option;
import scala.concurrent.duration.FiniteDuration;

/**
 * Akka's split brain resolver (its actor, {@code stable-after}, {@code down-all-when-unstable})
 * deciding with {@link WorkerMajority}: configured as {@code akka.cluster.downing-provider-class}
 * in {@code shardserve-akka.conf}; the worker role is {@code shardserve.sharding.worker-role}.
 * Akka's {@code active-strategy} setting is read for validation only.
 */
public final class WorkerMajorityDowningProvider extends DowningProvider {
  private final ActorSystem system;
  private final SplitBrainResolverSettings settings;

  public WorkerMajorityDowningProvider(ActorSystem system) {
    this.system = system;
    this.settings = new SplitBrainResolverSettings(system.settings().config());
  }

  /** As Akka's provider: the cluster's removal margin, or stable-after when none is set. */
  @Override
  public FiniteDuration downRemovalMargin() {
    FiniteDuration margin = Cluster.get(system).settings().DownRemovalMargin();
    return margin.length() == 0 ? settings.DowningStableAfter() : margin;
  }

  @Override
  public Option<Props> downingActorProps() {
    Cluster cluster = Cluster.get(system);
    String role = system.settings().config().getString("shardserve.sharding.worker-role");
    return Option.apply(SplitBrainResolver.props(settings.DowningStableAfter(),
        new WorkerMajority(cluster.selfDataCenter(), role, cluster.selfUniqueAddress())));
  }
}
