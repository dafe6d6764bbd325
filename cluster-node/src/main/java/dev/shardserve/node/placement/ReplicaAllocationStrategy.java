package dev.shardserve.node.placement;

import akka.actor.ActorRef;
import akka.actor.Address;
import akka.actor.typed.ActorSystem;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.ddata.LWWMap;
import akka.cluster.sharding.ShardCoordinator;
import akka.cluster.typed.Cluster;
import akka.dispatch.Futures;
import akka.cluster.ddata.LWWRegister;
import dev.shardserve.ddata.ReplicatedView;
import dev.shardserve.desired.DesiredState;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.sharding.EntityIds;
import dev.shardserve.protocol.ModelCatalog;
import dev.shardserve.protocol.ModelCatalog.NodeModels;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import scala.collection.immutable.IndexedSeq;
import scala.concurrent.Future;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The model entities' shard allocation: {@link ReplicaPlacement}'s rules (anti-affinity between
 * replicas of one model, weight by advertised capacity, gradual rebalancing) over the regions the
 * coordinator knows. Each node's weight comes from the capacity it publishes with its model list
 * ({@link ModelCatalog}); a node that has not published yet counts as weight 1. Only regions of
 * worker nodes exist (the entity type has role {@code worker}), so gateways host nothing.
 * Rebalancing waits while a member is joining or unreachable, and while a move is in progress,
 * as Akka's own strategy does, and never moves a replica of a stateful model (desired state).
 */
public final class ReplicaAllocationStrategy extends ShardCoordinator.AbstractShardAllocationStrategy {
  private final ActorSystem<?> system;
  private final ReplicatedView<LWWMap<String, NodeModels>> catalog;
  private final ReplicatedView<LWWRegister<DesiredState>> desired;

  public ReplicaAllocationStrategy(ActorSystem<?> system) {
    this.system = system;
    this.catalog = ReplicatedView.start(system, ModelCatalog.KEY, LWWMap.empty(), "placement-catalog-view");
    this.desired = ReplicatedView.start(system, DesiredState.KEY, null, "placement-desired-view");
  }

  @Override
  public Future<ActorRef> allocateShard(ActorRef requester, String shardId,
      Map<ActorRef, IndexedSeq<String>> currentShardAllocations) {
    Map<ActorRef, List<String>> nodes = usable(currentShardAllocations);
    if (nodes.isEmpty()) {
      nodes = toJava(currentShardAllocations);
    }
    return Futures.successful(ReplicaPlacement.allocate(shardId, nodes, weights(nodes.keySet())));
  }

  @Override
  public Future<Set<String>> rebalance(Map<ActorRef, IndexedSeq<String>> currentShardAllocations,
      Set<String> rebalanceInProgress) {
    if (!rebalanceInProgress.isEmpty() || !goodTimeToRebalance()) {
      return Futures.successful(Set.of());
    }
    Map<ActorRef, List<String>> nodes = usable(currentShardAllocations);
    return Futures.successful(ReplicaPlacement.rebalance(nodes, weights(nodes.keySet()), this::stateful));
  }

  /** A replica of a stateful model: never moved by rebalancing (its state would be lost). */
  private boolean stateful(String shard) {
    LWWRegister<DesiredState> d = desired.get();
    ModelSpec spec = d == null ? null : d.getValue().models().get(EntityIds.model(shard));
    return spec != null && spec.stateful();
  }

  private Address addressOf(ActorRef region) {
    Address a = region.path().address();
    return a.hasLocalScope() ? Cluster.get(system).selfMember().address() : a;
  }

  /** Regions on members that are Up (not joining, leaving or down). */
  private Map<ActorRef, List<String>> usable(Map<ActorRef, IndexedSeq<String>> current) {
    Map<Address, Member> members = new HashMap<>();
    for (Member m : Cluster.get(system).state().getMembers()) {
      members.put(m.address(), m);
    }
    Map<ActorRef, List<String>> out = new LinkedHashMap<>();
    for (Map.Entry<ActorRef, List<String>> e : toJava(current).entrySet()) {
      Member m = members.get(addressOf(e.getKey()));
      if (m != null && (m.status() == MemberStatus.up() || m.status() == MemberStatus.weaklyUp())) {
        out.put(e.getKey(), e.getValue());
      }
    }
    return out;
  }

  private static Map<ActorRef, List<String>> toJava(Map<ActorRef, IndexedSeq<String>> current) {
    Map<ActorRef, List<String>> out = new LinkedHashMap<>();
    current.forEach((region, shards) -> out.put(region, CollectionConverters.asJava(shards)));
    return out;
  }

  private Map<ActorRef, Double> weights(Set<ActorRef> regions) {
    Map<String, NodeModels> published = catalog.get().getEntries();
    Map<ActorRef, Double> out = new HashMap<>();
    for (ActorRef region : regions) {
      NodeModels n = published.get(addressOf(region).toString());
      out.put(region, n == null ? 1.0 : n.weight());
    }
    return out;
  }

  private boolean goodTimeToRebalance() {
    var state = Cluster.get(system).state();
    if (!state.getUnreachable().isEmpty()) {
      return false;
    }
    for (Member m : state.getMembers()) {
      if (m.status() == MemberStatus.joining() || m.status() == MemberStatus.weaklyUp()) {
        return false;
      }
    }
    return true;
  }
}
