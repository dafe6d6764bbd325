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
import dev.shardserve.sharding.Workers;
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
 *
 * <p>The desired state is known once it was read: this node's replica of it, a change, or (when
 * this node holds none, as in a gateway that just started) a read from a majority of the cluster,
 * bounded and tried again every second while it fails; a majority answering "none" means the
 * cluster has none. Until then no model's settings are known, so no request is retried (a
 * stateful model must never be), and a model gets as many replicas as the nodes publish.
 *
 * <p>A model's replica count follows the desired state and the worker nodes that count
 * ({@link Workers#counts}: leaving, unreachable and downed ones count until removed), raised to
 * cover every replica a live node publishes as hosted: a replica kept serving after the cluster
 * shrank is routed to until its node stops publishing it.
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
  /** A read of the desired state from a majority of the cluster is in flight. */
  private boolean readingCluster;
  private ActorRef<Replicator.Command> replicator;
  private akka.actor.typed.javadsl.ActorContext<Message> ctx;

  /** How long a read of the desired state from a majority of the cluster may take. */
  static final Duration CLUSTER_READ_TIMEOUT = Duration.ofSeconds(5);

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
      this.replicator = replicator;
      this.ctx = ctx;
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
            } else if (m.response().key().equals(DesiredState.KEY) && !desiredKnown) {
              readDesiredFromCluster(); // this node holds none (yet): ask the cluster
            }
            return rebuilt();
          })
          .onMessage(ClusterGot.class, m -> {
            readingCluster = false;
            if (m.response() instanceof Replicator.GetSuccess<?> ok) {
              taken(ok.key(), ok.dataValue());
            } else if (m.response() instanceof Replicator.NotFound<?>) {
              desiredKnown = true; // a majority has none: the cluster has none
            } // else no majority answered: tried again at the next tick
            return rebuilt();
          })
          .onMessage(ClusterChanged.class, m -> rebuilt())
          .onMessageEquals(Tick.INSTANCE, () -> {
            if (!desiredKnown) {
              readDesiredFromCluster();
            }
            return rebuilt();
          })
          .build();
    }));
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static void subscribe(ActorRef<Replicator.Command> replicator, akka.cluster.ddata.Key<?> key,
      ActorRef<Replicator.SubscribeResponse<?>> subscriptions, ActorRef<Replicator.GetResponse<?>> gets) {
    replicator.tell(new Replicator.Subscribe(key, (ActorRef) subscriptions));
    replicator.tell(new Replicator.Get(key, Replicator.readLocal(), (ActorRef) gets));
  }

  /** The answer of a read of the desired state from a majority of the cluster (null: no answer). */
  private record ClusterGot(Replicator.GetResponse<LWWRegister<DesiredState>> response) implements Message {}

  private void readDesiredFromCluster() {
    if (readingCluster || Cluster.get(system).selfMember().status() != MemberStatus.up()) {
      return; // before this process is Up, a majority would be itself alone
    }
    readingCluster = true;
    // An ask, not the adapter: an actor has one message adapter per response class.
    @SuppressWarnings({"unchecked", "rawtypes"})
    Class<Replicator.GetResponse<LWWRegister<DesiredState>>> type = (Class) Replicator.GetResponse.class;
    ctx.ask(type, replicator, CLUSTER_READ_TIMEOUT.plusSeconds(1),
        replyTo -> new Replicator.Get<>(DesiredState.KEY, new Replicator.ReadMajority(CLUSTER_READ_TIMEOUT), replyTo),
        (response, error) -> new ClusterGot(response));
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
    Set<String> workers = new HashSet<>();
    for (Member m : state.getMembers()) {
      MemberStatus s = m.status();
      String address = m.address().toString();
      boolean unreachable = state.getUnreachable().contains(m);
      if (s == MemberStatus.up() || s == MemberStatus.weaklyUp() || s == MemberStatus.joining()
          || s == MemberStatus.leaving()) {
        live.add(address);
        workersJoined |= m.hasRole(workerRole);
      }
      if (m.hasRole(workerRole) && Workers.counts(s)) {
        workersUp++;
      }
      if (m.hasRole(workerRole)) {
        workers.add(address);
      }
      if (s == MemberStatus.leaving() || s == MemberStatus.exiting() || s == MemberStatus.down() || unreachable) {
        going.add(address);
      }
    }
    Map<String, Set<Integer>> avoid = new HashMap<>();
    Map<String, Map<Integer, String>> hosts = new HashMap<>();
    Map<String, Integer> published = new HashMap<>(); // per model: 1 + the highest replica a live node hosts
    Set<String> models = new TreeSet<>();
    boolean catalogHeard = false;
    for (Map.Entry<String, NodeModels> e : catalog.getEntries().entrySet()) {
      if (live.contains(e.getKey())) {
        catalogHeard |= workers.contains(e.getKey());
        models.addAll(e.getValue().models());
        for (String id : e.getValue().replicas()) {
          published.merge(EntityIds.model(id), EntityIds.replica(id) + 1, Math::max);
        }
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
      int hostedCount = published.getOrDefault(model, 0);
      // Settings unknown: as many replicas as the nodes host (a stateful model's one), else the count,
      // raised to a replica a live node still serves beyond it.
      int wanted = !desiredKnown ? Math.max(1, hostedCount) : effective.replicasFor(workersUp);
      int replicas = !desiredKnown || stateful ? wanted
          : Math.min(ModelSpec.MAX_REPLICAS, Math.max(wanted, hostedCount));
      String[] hostOf = new String[replicas];
      hosts.getOrDefault(model, Map.of()).forEach((r, node) -> {
        if (r < hostOf.length) {
          hostOf[r] = node;
        }
      });
      routes.put(model, new RoutingSnapshot.Route(model, replicas, wanted, stateful,
          spec == null ? -1 : spec.requestTimeoutMillis(), Set.copyOf(avoid.getOrDefault(model, Set.of())),
          desiredKnown && !stateful, hostOf, metrics.model(model)));
    }
    snapshot = new RoutingSnapshot(workersJoined, catalogHeard, workersUp, desiredKnown, desired, Map.copyOf(routes));
  }
}
