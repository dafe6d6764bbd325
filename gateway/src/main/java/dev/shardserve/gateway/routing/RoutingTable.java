package dev.shardserve.gateway.routing;

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
import akka.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Subscribe;
import dev.shardserve.desired.DesiredState;
import dev.shardserve.desired.ModelSpec;
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

  private record CatalogChanged(LWWMap<String, NodeModels> value) implements Message {}

  private record DesiredChanged(DesiredState value) implements Message {}

  private enum DesiredAbsent implements Message {
    INSTANCE
  }

  private record ClusterChanged(Object event) implements Message {}

  private enum Tick implements Message {
    INSTANCE
  }

  private final ActorSystem<?> system;
  private final String workerRole;
  private volatile RoutingSnapshot snapshot = RoutingSnapshot.EMPTY;
  private LWWMap<String, NodeModels> catalog = LWWMap.empty();
  private DesiredState desired = DesiredState.INITIAL;
  private boolean desiredKnown;

  private RoutingTable(ActorSystem<?> system) {
    this.system = system;
    this.workerRole = system.settings().config().getString("shardserve.sharding.worker-role");
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

  private Behavior<Message> behavior() {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Tick.INSTANCE, Duration.ofSeconds(1));
      Cluster.get(system).subscriptions().tell(Subscribe.create(
          ctx.messageAdapter(ClusterEvent.MemberEvent.class, ClusterChanged::new), ClusterEvent.MemberEvent.class));
      Cluster.get(system).subscriptions().tell(Subscribe.create(
          ctx.messageAdapter(ClusterEvent.ReachabilityEvent.class, ClusterChanged::new),
          ClusterEvent.ReachabilityEvent.class));
      return DistributedData.<Message, LWWMap<String, NodeModels>>withReplicatorMessageAdapter(catalogAdapter ->
          DistributedData.<Message, LWWRegister<DesiredState>>withReplicatorMessageAdapter(desiredAdapter -> {
            subscribe(catalogAdapter, desiredAdapter);
            rebuild();
            return Behaviors.receive(Message.class)
                .onMessage(CatalogChanged.class, m -> {
                  catalog = m.value();
                  return rebuilt();
                })
                .onMessage(DesiredChanged.class, m -> {
                  desired = m.value();
                  desiredKnown = true;
                  return rebuilt();
                })
                .onMessageEquals(DesiredAbsent.INSTANCE, () -> {
                  desiredKnown = true;
                  return rebuilt();
                })
                .onMessage(ClusterChanged.class, m -> rebuilt())
                .onMessageEquals(Tick.INSTANCE, this::rebuilt)
                .build();
          }));
    }));
  }

  private void subscribe(ReplicatorMessageAdapter<Message, LWWMap<String, NodeModels>> catalogAdapter,
      ReplicatorMessageAdapter<Message, LWWRegister<DesiredState>> desiredAdapter) {
    catalogAdapter.subscribe(ModelCatalog.KEY, r -> r instanceof Replicator.Changed<LWWMap<String, NodeModels>> c
        ? new CatalogChanged(c.dataValue()) : Tick.INSTANCE);
    catalogAdapter.askGet(replyTo -> new Replicator.Get<>(ModelCatalog.KEY, Replicator.readLocal(), replyTo),
        r -> r instanceof Replicator.GetSuccess<LWWMap<String, NodeModels>> ok
            ? new CatalogChanged(ok.dataValue()) : Tick.INSTANCE);
    desiredAdapter.subscribe(DesiredState.KEY, r -> r instanceof Replicator.Changed<LWWRegister<DesiredState>> c
        ? new DesiredChanged(c.dataValue().getValue()) : Tick.INSTANCE);
    desiredAdapter.askGet(replyTo -> new Replicator.Get<>(DesiredState.KEY, Replicator.readLocal(), replyTo),
        r -> r instanceof Replicator.GetSuccess<LWWRegister<DesiredState>> ok
            ? new DesiredChanged(ok.dataValue().getValue())
            : r instanceof Replicator.NotFound<?> ? DesiredAbsent.INSTANCE : Tick.INSTANCE);
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
    Set<String> models = new TreeSet<>();
    for (Map.Entry<String, NodeModels> e : catalog.getEntries().entrySet()) {
      if (live.contains(e.getKey())) {
        models.addAll(e.getValue().models());
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
      routes.put(model, new RoutingSnapshot.Route(model, effective.replicasFor(workersUp), stateful,
          spec == null ? -1 : spec.requestTimeoutMillis(), Set.copyOf(avoid.getOrDefault(model, Set.of())),
          desiredKnown && !stateful));
    }
    snapshot = new RoutingSnapshot(workersJoined, workersUp, desiredKnown, desired, Map.copyOf(routes));
  }
}
