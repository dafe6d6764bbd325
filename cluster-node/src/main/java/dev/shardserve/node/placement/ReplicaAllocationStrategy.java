package dev.shardserve.node.placement;

import akka.actor.ActorRef;
import akka.actor.Address;
import akka.actor.typed.ActorSystem;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.ddata.LWWMap;
import akka.cluster.ddata.LWWRegister;
import akka.cluster.sharding.ShardCoordinator;
import akka.cluster.typed.Cluster;
import akka.dispatch.Futures;
import dev.shardserve.ddata.ReplicatedView;
import dev.shardserve.desired.DesiredState;
import dev.shardserve.desired.Device;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.protocol.ModelCatalog;
import dev.shardserve.protocol.ModelCatalog.NodeModels;
import dev.shardserve.sharding.EntityIds;
import dev.shardserve.sharding.GpuWorkers;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.Predicate;
import scala.collection.immutable.IndexedSeq;
import scala.concurrent.Future;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The model entities' shard allocation: {@link ReplicaPlacement}'s rules (anti-affinity between
 * replicas of one model, weight by advertised capacity, gradual rebalancing) over the regions the
 * coordinator knows, restricted by each model's {@link Device}: a {@code gpu} model's replicas go
 * only to nodes with role {@code gpu}. Each node's weight comes from the capacity it publishes with
 * its model list ({@link ModelCatalog}: CPU slots + 4 per GPU); a node that has not published yet
 * counts as weight 1. Only regions of worker nodes exist (the entity type has role
 * {@code worker}), so gateways host nothing. Rebalancing waits while a member is joining or
 * unreachable, and while a move is in progress, as Akka's own strategy does.
 *
 * <p>The decisions themselves are the pure functions {@link #allocate(String, Map, Map, Function)}
 * and {@link #rebalance(Map, Map, Function)}, which the placement simulation
 * ({@code ./shardserve bench allocation}) runs at 100 nodes without a cluster. With no {@code gpu}
 * node up, a {@code gpu} model is allocated as any other (it then fails to load there, with that
 * reason in its status and its answers); once a {@code gpu} node is up, rebalancing moves it there
 * first. Rebalancing never moves a replica of a stateful model (desired state): its TensorFlow
 * variables would reset; a drain or a crash still moves it.
 */
public final class ReplicaAllocationStrategy extends ShardCoordinator.AbstractShardAllocationStrategy {

  /** What the rules know of a node: its placement weight, and whether it has role {@code gpu}. */
  public record NodeCapacity(double weight, boolean gpu) {
    public NodeCapacity {
      if (!(weight > 0)) {
        throw new IllegalArgumentException("a node's weight must be > 0, was " + weight);
      }
    }
  }

  private static final NodeCapacity UNKNOWN = new NodeCapacity(1.0, false);

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
    return Futures.successful(allocate(shardId, nodes, capacities(nodes.keySet()), devices()));
  }

  @Override
  public Future<Set<String>> rebalance(Map<ActorRef, IndexedSeq<String>> currentShardAllocations,
      Set<String> rebalanceInProgress) {
    if (!rebalanceInProgress.isEmpty() || !goodTimeToRebalance()) {
      return Futures.successful(Set.of());
    }
    Map<ActorRef, List<String>> nodes = usable(currentShardAllocations);
    return Futures.successful(rebalance(nodes, capacities(nodes.keySet()), devices(), this::stateful));
  }

  /** A replica of a stateful model: never moved by rebalancing (its state would be lost). */
  private boolean stateful(String shard) {
    LWWRegister<DesiredState> d = desired.get();
    ModelSpec spec = d == null ? null : d.getValue().models().get(EntityIds.model(shard));
    return spec != null && spec.stateful();
  }

  // ---- the rules, as pure functions ----

  /**
   * The node for {@code shard}: {@link ReplicaPlacement#allocate} among the nodes that may host
   * its model's device (all of them when none may: the load then refuses with the reason).
   * {@code nodes} is not empty.
   */
  public static <N> N allocate(String shard, Map<N, List<String>> nodes, Map<N, NodeCapacity> capacity,
      Function<String, Device> deviceOf) {
    Map<N, List<String>> eligible = eligible(nodes, capacity, deviceOf.apply(EntityIds.model(shard)));
    Map<N, List<String>> among = eligible.isEmpty() ? nodes : eligible;
    return ReplicaPlacement.allocate(shard, among, weights(among, capacity));
  }

  /**
   * The shards to move now, first what breaks a rule while a node exists that would keep it: every
   * replica of a {@code gpu} model on a node without a GPU while a GPU node exists; then every
   * replica that shares a node with another replica of its model (placed so while too few nodes
   * were up) while an eligible node holds none of that model. Otherwise
   * {@link ReplicaPlacement#rebalance}'s one move, taken among the GPU nodes when the shard it
   * picks is a {@code gpu} model's and the least loaded node has no GPU (it could not go there).
   */
  public static <N> Set<String> rebalance(Map<N, List<String>> nodes, Map<N, NodeCapacity> capacity,
      Function<String, Device> deviceOf) {
    return rebalance(nodes, capacity, deviceOf, shard -> false);
  }

  /** As {@link #rebalance(Map, Map, Function)}, never moving a shard {@code pinned} accepts. */
  public static <N> Set<String> rebalance(Map<N, List<String>> nodes, Map<N, NodeCapacity> capacity,
      Function<String, Device> deviceOf, Predicate<String> pinned) {
    Map<N, List<String>> gpuNodes = eligible(nodes, capacity, Device.GPU);
    if (!gpuNodes.isEmpty()) {
      Set<String> misplaced = new TreeSet<>();
      for (Map.Entry<N, List<String>> e : nodes.entrySet()) {
        if (!gpuNodes.containsKey(e.getKey())) {
          for (String shard : e.getValue()) {
            if (deviceOf.apply(EntityIds.model(shard)) == Device.GPU && !pinned.test(shard)) {
              misplaced.add(shard);
            }
          }
        }
      }
      if (!misplaced.isEmpty()) {
        return misplaced;
      }
    }
    Set<String> apart = separable(nodes, gpuNodes.size(), deviceOf);
    apart.removeIf(pinned);
    if (!apart.isEmpty()) {
      return apart;
    }
    Set<String> move = ReplicaPlacement.rebalance(nodes, weights(nodes, capacity), pinned);
    if (move.isEmpty() || gpuNodes.isEmpty() || gpuNodes.size() == nodes.size()) {
      return move;
    }
    boolean gpuShard = move.stream().anyMatch(s -> deviceOf.apply(EntityIds.model(s)) == Device.GPU);
    if (gpuShard && !capacity.getOrDefault(leastLoaded(nodes, capacity), UNKNOWN).gpu()) {
      return ReplicaPlacement.rebalance(gpuNodes, weights(gpuNodes, capacity), pinned);
    }
    return move;
  }

  /**
   * Replicas that share a node with another replica of their model while some node that may host
   * the model holds none of it: all but the first (in shard order) of each such group.
   */
  private static <N> Set<String> separable(Map<N, List<String>> nodes, int gpuNodeCount,
      Function<String, Device> deviceOf) {
    Map<String, Integer> holders = new HashMap<>();
    List<List<String>> crowded = new ArrayList<>();
    for (List<String> shards : nodes.values()) {
      Map<String, List<String>> byModel = new HashMap<>();
      for (String shard : shards) {
        byModel.computeIfAbsent(EntityIds.model(shard), m -> new ArrayList<>()).add(shard);
      }
      for (Map.Entry<String, List<String>> e : byModel.entrySet()) {
        holders.merge(e.getKey(), 1, Integer::sum);
        if (e.getValue().size() > 1) {
          crowded.add(e.getValue());
        }
      }
    }
    if (crowded.isEmpty()) {
      return new TreeSet<>();
    }
    Set<String> out = new TreeSet<>();
    for (List<String> group : crowded) {
      String model = EntityIds.model(group.get(0));
      int eligible = deviceOf.apply(model) == Device.GPU ? gpuNodeCount : nodes.size();
      if (eligible > holders.get(model)) {
        List<String> sorted = new ArrayList<>(group);
        Collections.sort(sorted);
        out.addAll(sorted.subList(1, sorted.size()));
      }
    }
    return out;
  }

  private static <N> N leastLoaded(Map<N, List<String>> nodes, Map<N, NodeCapacity> capacity) {
    List<N> all = new ArrayList<>(nodes.keySet());
    return Collections.min(all, (a, b) -> Double.compare(
        nodes.get(a).size() / capacity.getOrDefault(a, UNKNOWN).weight(),
        nodes.get(b).size() / capacity.getOrDefault(b, UNKNOWN).weight()));
  }

  /** The nodes that may host a model of {@code device}: the GPU nodes for {@code gpu}, else all. */
  static <N> Map<N, List<String>> eligible(Map<N, List<String>> nodes, Map<N, NodeCapacity> capacity,
      Device device) {
    if (device != Device.GPU) {
      return nodes;
    }
    Map<N, List<String>> out = new LinkedHashMap<>();
    nodes.forEach((n, shards) -> {
      if (capacity.getOrDefault(n, UNKNOWN).gpu()) {
        out.put(n, shards);
      }
    });
    return out;
  }

  private static <N> Map<N, Double> weights(Map<N, List<String>> nodes, Map<N, NodeCapacity> capacity) {
    Map<N, Double> out = new HashMap<>();
    for (N n : nodes.keySet()) {
      out.put(n, capacity.getOrDefault(n, UNKNOWN).weight());
    }
    return out;
  }

  // ---- what the cluster says ----

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

  /** Each region's weight (published capacity) and whether its member has role {@code gpu}. */
  private Map<ActorRef, NodeCapacity> capacities(Set<ActorRef> regions) {
    Map<String, NodeModels> published = catalog.get().getEntries();
    Map<Address, Member> members = new HashMap<>();
    for (Member m : Cluster.get(system).state().getMembers()) {
      members.put(m.address(), m);
    }
    Map<ActorRef, NodeCapacity> out = new HashMap<>();
    for (ActorRef region : regions) {
      Address a = addressOf(region);
      NodeModels n = published.get(a.toString());
      Member m = members.get(a);
      out.put(region, new NodeCapacity(n == null ? 1.0 : n.weight(), m != null && m.hasRole(GpuWorkers.ROLE)));
    }
    return out;
  }

  /** Each model's device, from the desired state this node's replica holds (any when not named). */
  private Function<String, Device> devices() {
    LWWRegister<DesiredState> state = desired.get();
    Map<String, ModelSpec> specs = state == null ? Map.of() : state.getValue().models();
    return model -> {
      ModelSpec s = specs.get(model);
      return s == null ? Device.ANY : s.device();
    };
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
