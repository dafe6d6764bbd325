package dev.shardserve.gateway.routing;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.ClusterEvent;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.ddata.LWWMap;
import akka.cluster.ddata.LWWRegister;
import akka.cluster.ddata.typed.javadsl.DistributedData;
import akka.cluster.ddata.typed.javadsl.Replicator;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Subscribe;
import dev.shardserve.desired.DesiredState;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.metrics.ShardServeMetrics;
import dev.shardserve.protocol.ModelCatalog;
import dev.shardserve.protocol.ModelCatalog.NodeModels;
import dev.shardserve.sharding.EntityIds;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Keeps the gateway's {@link RoutingSnapshot}: a small actor subscribed to cluster membership and
 * reachability, the model catalog and the desired state rebuilds the snapshot on each event (and
 * once a second, since the cluster's state view can trail its events) and publishes it in one
 * volatile field that request handlers read.
 */
public final class RoutingTable {
  private interface Message {}

  private record ClusterChanged(Object event) implements Message {}

  private enum Tick implements Message {
    INSTANCE
  }

  private final ActorSystem<?> system;
  private final String workerRole;
  private final ShardServeMetrics metrics;
  private volatile RoutingSnapshot snapshot = RoutingSnapshot.EMPTY;
  private LWWMap<String, NodeModels> catalog = LWWMap.empty();
  private DesiredState desired = DesiredState.INITIAL;
  private boolean desiredKnown;

  private RoutingTable(ActorSystem<?> system) {
    this.system = system;
    this.workerRole = system.settings().config().getString("shardserve.sharding.worker-role");
    this.metrics = ShardServeMetrics.get(system);
  }

  public static RoutingTable start(ActorSystem<?> system) {
    RoutingTable t = new RoutingTable(system);
    system.systemActorOf(t.behavior(), "routing-table", Props.empty());
    return t;
  }

  /** The latest snapshot (one volatile read). */
  public RoutingSnapshot snapshot() {
    return snapshot;
  }

  /** A subscription's answer: typed message adapters are one per class, so both keys share it. */
  private record Subscribed(Replicator.SubscribeResponse<?> response) implements Message {}

  private record Got(Replicator.GetResponse<?> response) implements Message {}

  private Behavior<Message> behavior() {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Tick.INSTANCE, Duration.ofSeconds(1));
      Cluster.get(system).subscriptions().tell(Subscribe.create(
          ctx.messageAdapter(ClusterEvent.MemberEvent.class, ClusterChanged::new), ClusterEvent.MemberEvent.class));
      Cluster.get(system).subscriptions().tell(Subscribe.create(
          ctx.messageAdapter(ClusterEvent.ReachabilityEvent.class, ClusterChanged::new),
          ClusterEvent.ReachabilityEvent.class));
      // One adapter per response class, for both keys (a second ReplicatorMessageAdapter in the same
      // actor would replace the first one's adapter for the same class).
      @SuppressWarnings({"unchecked", "rawtypes"})
      ActorRef<Replicator.SubscribeResponse<?>> subscriptions =
          (ActorRef) ctx.messageAdapter(Replicator.SubscribeResponse.class, r -> new Subscribed(r));
      @SuppressWarnings({"unchecked", "rawtypes"})
      ActorRef<Replicator.GetResponse<?>> gets =
          (ActorRef) ctx.messageAdapter(Replicator.GetResponse.class, r -> new Got(r));
      ActorRef<Replicator.Command> replicator = DistributedData.get(system).replicator();
      subscribe(replicator, ModelCatalog.KEY, subscriptions, gets);
      subscribe(replicator, DesiredState.KEY, subscriptions, gets);
      rebuild();
      return Behaviors.receive(Message.class)
          .onMessage(Subscribed.class, m -> {
            if (m.response() instanceof Replicator.Changed<?> c) {
              taken(c.key(), c.dataValue());
            }
            return rebuilt();
          })
          .onMessage(Got.class, m -> {
            if (m.response() instanceof Replicator.GetSuccess<?> ok) {
              taken(ok.key(), ok.dataValue());
            } else if (m.response() instanceof Replicator.NotFound<?> nf && nf.key().equals(DesiredState.KEY)) {
              desiredKnown = true;
            }
            return rebuilt();
          })
          .onMessage(ClusterChanged.class, m -> rebuilt())
          .onMessageEquals(Tick.INSTANCE, this::rebuilt)
          .build();
    }));
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static void subscribe(ActorRef<Replicator.Command> replicator, akka.cluster.ddata.Key<?> key,
      ActorRef<Replicator.SubscribeResponse<?>> subscriptions, ActorRef<Replicator.GetResponse<?>> gets) {
    replicator.tell(new Replicator.Subscribe(key, (ActorRef) subscriptions));
    replicator.tell(new Replicator.Get(key, Replicator.readLocal(), (ActorRef) gets));
  }

  @SuppressWarnings("unchecked")
  private void taken(akka.cluster.ddata.Key<?> key, Object value) {
    if (key.equals(ModelCatalog.KEY)) {
      catalog = (LWWMap<String, NodeModels>) value;
    } else if (key.equals(DesiredState.KEY)) {
      desired = ((LWWRegister<DesiredState>) value).getValue();
      desiredKnown = true;
    }
  }

  private Behavior<Message> rebuilt() {
    rebuild();
    return Behaviors.same();
  }

  private void rebuild() {
    var state = Cluster.get(system).state();
    Set<String> live = new HashSet<>();
    Set<String> going = new HashSet<>();
    boolean workersJoined = false;
    int workersUp = 0;
    for (Member m : state.getMembers()) {
      MemberStatus s = m.status();
      String address = m.address().toString();
      boolean unreachable = state.getUnreachable().contains(m);
      if (s == MemberStatus.up() || s == MemberStatus.weaklyUp() || s == MemberStatus.joining()
          || s == MemberStatus.leaving()) {
        live.add(address);
        workersJoined |= m.hasRole(workerRole);
      }
      if (m.hasRole(workerRole) && (s == MemberStatus.up() || s == MemberStatus.weaklyUp())) {
        workersUp++;
      }
      if (s == MemberStatus.leaving() || s == MemberStatus.exiting() || s == MemberStatus.down() || unreachable) {
        going.add(address);
      }
    }
    Map<String, Set<Integer>> avoid = new HashMap<>();
    Map<String, Map<Integer, String>> hosts = new HashMap<>();
    Set<String> models = new TreeSet<>();
    for (Map.Entry<String, NodeModels> e : catalog.getEntries().entrySet()) {
      if (live.contains(e.getKey())) {
        models.addAll(e.getValue().models());
        if (!going.contains(e.getKey())) {
          for (String id : e.getValue().replicas()) {
            hosts.computeIfAbsent(EntityIds.model(id), k -> new HashMap<>()).put(EntityIds.replica(id), e.getKey());
          }
        }
      }
      if (going.contains(e.getKey())) {
        for (String id : e.getValue().replicas()) {
          avoid.computeIfAbsent(EntityIds.model(id), k -> new HashSet<>()).add(EntityIds.replica(id));
        }
      }
    }
    Map<String, RoutingSnapshot.Route> routes = new HashMap<>();
    for (String model : models) {
      ModelSpec spec = desired.models().get(model);
      ModelSpec effective = spec == null ? ModelSpec.DEFAULT : spec;
      boolean stateful = spec != null && spec.stateful();
      int replicas = effective.replicasFor(workersUp);
      String[] hostOf = new String[replicas];
      hosts.getOrDefault(model, Map.of()).forEach((r, node) -> {
        if (r < hostOf.length) {
          hostOf[r] = node;
        }
      });
      routes.put(model, new RoutingSnapshot.Route(model, replicas, stateful,
          spec == null ? -1 : spec.requestTimeoutMillis(), Set.copyOf(avoid.getOrDefault(model, Set.of())),
          desiredKnown && !stateful, hostOf, metrics.model(model)));
    }
    snapshot = new RoutingSnapshot(workersJoined, workersUp, desiredKnown, desired, Map.copyOf(routes));
  }
}
