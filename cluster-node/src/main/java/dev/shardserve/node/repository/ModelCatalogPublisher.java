package dev.shardserve.node.repository;

import akka.Done;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.ClusterEvent;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.ddata.LWWMap;
import akka.cluster.ddata.LWWRegister;
import akka.cluster.ddata.SelfUniqueAddress;
import akka.cluster.ddata.typed.javadsl.DistributedData;
import akka.cluster.ddata.typed.javadsl.Replicator;
import akka.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Subscribe;
import dev.shardserve.dataplane.ReplicaHandles;
import dev.shardserve.desired.DesiredState;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.metrics.ShardServeMetrics;
import dev.shardserve.protocol.ModelCatalog;
import dev.shardserve.protocol.ModelCatalog.NodeModels;
import dev.shardserve.protocol.ModelProtocol;
import dev.shardserve.protocol.ModelProtocol.StatusReply;
import dev.shardserve.protocol.VersionSelector;
import dev.shardserve.sharding.EntityIds;
import dev.shardserve.sharding.Workers;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * Publishes the models this node serves into {@link ModelCatalog} (Distributed Data), under this
 * node's address, and starts their replicas: the models named in the {@link DesiredState} (and
 * loaded), plus the folders of the repository while discovery is on. It runs at start, on every
 * poll and on every change of the desired state. Each served model's replicas are woken
 * through sharding on every poll, so that models load when the node starts (as TF Serving loads
 * its models) rather than on their first request, and a replica that stopped starts again. {@code firstPublished} completes when
 * the first write is in the local replica. When a member is removed from the cluster, its entry
 * is removed ({@link #removeEntryOf}).
 */
public final class ModelCatalogPublisher {
  public interface Message {}

  private enum Scan implements Message {
    INSTANCE
  }

  private record Written(Replicator.UpdateResponse<LWWMap<String, NodeModels>> response, Set<String> models)
      implements Message {}

  private record Desired(Replicator.SubscribeResponse<LWWRegister<DesiredState>> response) implements Message {}

  private record GotDesired(Replicator.GetResponse<LWWRegister<DesiredState>> response) implements Message {}

  private record Hosted(akka.cluster.sharding.ShardRegion.CurrentShardRegionState state) implements Message {}

  private record MemberGone(ClusterEvent.MemberRemoved event) implements Message {}

  private record EntryRemoved(Replicator.UpdateResponse<LWWMap<String, NodeModels>> response, String node)
      implements Message {}

  private record CatalogRead(Replicator.GetResponse<LWWMap<String, NodeModels>> response) implements Message {}

  private final ActorContext<Message> ctx;
  private final ModelRepository repository;
  private final ReplicatorMessageAdapter<Message, LWWMap<String, NodeModels>> catalog;
  private final SelfUniqueAddress self;
  private final String nodeKey;
  private final CompletableFuture<Done> firstPublished;
  private final ActorRef<StatusReply> ignore;
  private DesiredState desired;
  /** The catalog as last read (each poll), for what a removed node hosted. */
  private Map<String, NodeModels> lastCatalog = Map.of();
  private Set<String> published;
  private Set<String> hosted = Set.of();
  private final ActorRef<akka.cluster.sharding.ShardRegion.CurrentShardRegionState> hostedAdapter;

  private final NodeModels capacity;

  private ModelCatalogPublisher(ActorContext<Message> ctx, ModelRepository repository,
      ReplicatorMessageAdapter<Message, LWWMap<String, NodeModels>> catalog, CompletableFuture<Done> firstPublished,
      NodeModels capacity) {
    this.capacity = capacity;
    this.hostedAdapter = ctx.messageAdapter(akka.cluster.sharding.ShardRegion.CurrentShardRegionState.class,
        Hosted::new);
    this.ctx = ctx;
    this.repository = repository;
    this.catalog = catalog;
    this.self = DistributedData.get(ctx.getSystem()).selfUniqueAddress();
    this.nodeKey = Cluster.get(ctx.getSystem()).selfMember().address().toString();
    this.firstPublished = firstPublished;
    this.ignore = ctx.getSystem().ignoreRef();
  }

  /** {@code cpuSlots}, {@code gpus}, {@code gpuMemoryMiB}: the capacity this node advertises for placement. */
  public static Behavior<Message> create(ModelRepository repository, Duration interval,
      CompletableFuture<Done> firstPublished, int cpuSlots, int gpus, long gpuMemoryMiB) {
    return Behaviors.setup(ctx -> DistributedData.withReplicatorMessageAdapter(
        (ReplicatorMessageAdapter<Message, LWWMap<String, NodeModels>> catalog) ->
            DistributedData.withReplicatorMessageAdapter(
                (ReplicatorMessageAdapter<Message, LWWRegister<DesiredState>> state) ->
                    Behaviors.withTimers(timers -> {
                      state.subscribe(DesiredState.KEY, Desired::new);
                      Cluster.get(ctx.getSystem()).subscriptions().tell(Subscribe.create(
                          ctx.messageAdapter(ClusterEvent.MemberRemoved.class, MemberGone::new),
                          ClusterEvent.MemberRemoved.class));
                      state.askGet(replyTo -> new Replicator.Get<>(DesiredState.KEY, Replicator.readLocal(), replyTo),
                          GotDesired::new);
                      timers.startTimerWithFixedDelay(Scan.INSTANCE, interval);
                      return new ModelCatalogPublisher(ctx, repository, catalog, firstPublished,
                          new NodeModels(Set.of(), cpuSlots, gpus, gpuMemoryMiB, Set.of())).behavior();
                    }))));
  }

  private Behavior<Message> behavior() {
    return Behaviors.receive(Message.class)
        .onMessageEquals(Scan.INSTANCE, () -> {
          publish();
          // A read, not a subscription: this actor subscribes to the desired state, and an actor
          // has one message adapter per response class (a second subscription would replace it).
          catalog.askGet(replyTo -> new Replicator.Get<>(ModelCatalog.KEY, Replicator.readLocal(), replyTo),
              CatalogRead::new);
          ClusterSharding.get(ctx.getSystem()).shardState().tell(new akka.cluster.sharding.typed.GetShardRegionState(
              ModelProtocol.ENTITY_TYPE_KEY, hostedAdapter));
          return Behaviors.same();
        })
        .onMessage(Hosted.class, h -> {
          Set<String> shards = new TreeSet<>();
          h.state().getShards().forEach(s -> shards.add(s.shardId()));
          Set<String> now = desired == null ? shards : published(shards,
              served(desired, repository.models(), Workers.counted(ctx.getSystem())),
              (m, r) -> ReplicaHandles.get(ctx.getSystem()).find(m, r) != null);
          if (!now.equals(hosted)) {
            hosted = now;
            published = null; // publish again with the new list
            publish();
          }
          return Behaviors.same();
        })
        .onMessage(GotDesired.class, m -> {
          if (m.response() instanceof Replicator.GetSuccess<LWWRegister<DesiredState>> ok) {
            desired = ok.dataValue().getValue();
          } else if (desired == null) {
            desired = DesiredState.INITIAL;
          }
          publish();
          return Behaviors.same();
        })
        .onMessage(Desired.class, m -> {
          if (m.response() instanceof Replicator.Changed<LWWRegister<DesiredState>> c) {
            desired = c.dataValue().getValue();
            publish();
          }
          return Behaviors.same();
        })
        .onMessage(MemberGone.class, m -> {
          logStateLoss(m.event());
          removeEntryOf(m.event().member());
          return Behaviors.same();
        })
        .onMessage(EntryRemoved.class, r -> {
          if (r.response() instanceof Replicator.UpdateSuccess) {
            ctx.getLog().debug("removed the catalog entry of {}", r.node());
          } else {
            ctx.getLog().warn("could not remove the catalog entry of {}: {}", r.node(), r.response());
          }
          return Behaviors.same();
        })
        .onMessage(CatalogRead.class, c -> {
          if (c.response() instanceof Replicator.GetSuccess<LWWMap<String, NodeModels>> read) {
            lastCatalog = read.dataValue().getEntries();
          }
          boolean present = c.response() instanceof Replicator.GetSuccess<LWWMap<String, NodeModels>> ok
              && ok.dataValue().contains(nodeKey);
          if (!present && published != null && !leaving()) {
            // Another node removed this address's entry for a predecessor at the same address
            // (its MemberRemoved came after this node's first publish): publish it again.
            ctx.getLog().info("this node's catalog entry was removed (meant for a predecessor at {}): "
                + "publishing it again", nodeKey);
            published = null;
            publish();
          }
          return Behaviors.same();
        })
        .onMessage(Written.class, w -> {
          if (w.response() instanceof Replicator.UpdateSuccess) {
            ctx.getLog().info("published models {} (repository {})", w.models(), repository.root());
            published = w.models();
            firstPublished.complete(Done.getInstance());
          } else {
            ctx.getLog().warn("could not publish the model catalog: {}", w.response());
          }
          return Behaviors.same();
        })
        .build();
  }

  /**
   * Removes the entry of a member that was removed from the cluster, so that a node restarting
   * at the same address never shows its predecessor's models and replicas. Every worker does it
   * (a removal is idempotent, and no single node has to be alive for it: not the leader, which
   * may be the node that died, nor a gateway, which runs no publisher); the entry stays when a
   * new incarnation at that address is already a member (it publishes its own).
   */
  private void removeEntryOf(Member removed) {
    String key = removed.address().toString();
    if (key.equals(nodeKey)) {
      return;
    }
    catalog.askUpdate(
        replyTo -> new Replicator.Update<>(ModelCatalog.KEY, LWWMap.empty(), Replicator.writeLocal(), replyTo,
            map -> map.contains(key) && !newIncarnationIsMember(removed) ? map.remove(self, key) : map),
        response -> new EntryRemoved(response, key));
  }

  /**
   * A node that crashed (removed after being downed) took the state of its stateful replicas with
   * it: they start again from their saved model wherever sharding places them. Said once, by the
   * oldest worker (a drain or rolling restart is logged by the replica itself as it stops).
   */
  private void logStateLoss(ClusterEvent.MemberRemoved removed) {
    NodeModels entry = lastCatalog.get(removed.member().address().toString());
    if (entry == null || desired == null || removed.previousStatus() != MemberStatus.down() || !oldestWorker()) {
      return;
    }
    for (String id : entry.replicas()) {
      ModelSpec spec = desired.models().get(EntityIds.model(id));
      if (spec != null && spec.stateful()) {
        ctx.getLog().warn("state loss: stateful replica {} was on {}, which crashed and was removed; it starts again "
            + "from its saved model, without the state it held", id, removed.member().address());
      }
    }
  }

  private boolean oldestWorker() {
    String role = ctx.getSystem().settings().config().getString("shardserve.sharding.worker-role");
    Member self = Cluster.get(ctx.getSystem()).selfMember();
    for (Member m : Cluster.get(ctx.getSystem()).state().getMembers()) {
      if (m.hasRole(role) && m.status() == MemberStatus.up() && m.isOlderThan(self)) {
        return false;
      }
    }
    return true;
  }

  private boolean newIncarnationIsMember(Member removed) {
    for (Member m : Cluster.get(ctx.getSystem()).state().getMembers()) {
      if (m.address().equals(removed.address()) && !m.uniqueAddress().equals(removed.uniqueAddress())) {
        return true;
      }
    }
    return false;
  }

  private boolean leaving() {
    return CoordinatedShutdown.get(ctx.getSystem().classicSystem()).getShutdownReason().isPresent()
        || Cluster.get(ctx.getSystem()).selfMember().status() != MemberStatus.up();
  }

  /** The models this node serves with their replica counts. */
  static Map<String, Integer> served(DesiredState desired, Set<String> inRepository, int workers) {
    Map<String, Integer> out = new TreeMap<>();
    if (desired.discoverRepository()) {
      for (String m : inRepository) {
        if (!desired.models().containsKey(m)) {
          out.put(m, ModelSpec.DEFAULT.replicasFor(workers));
        }
      }
    }
    for (Map.Entry<String, ModelSpec> e : desired.models().entrySet()) {
      if (e.getValue().loaded()) {
        out.put(e.getKey(), e.getValue().replicasFor(workers));
      }
    }
    return out;
  }

  /**
   * The replicas this node publishes as hosted, of the shards of its region: every one within its
   * model's replica count, and one beyond it only while it serves here (a replica kept after the
   * cluster shrank, until its replacement serves). A shard whose replica was given up stays in the
   * region until sharding moves it; published, it would draw requests to a replica that refuses
   * them.
   */
  static Set<String> published(Set<String> shardIds, Map<String, Integer> served,
      java.util.function.BiPredicate<String, Integer> servingHere) {
    Set<String> out = new TreeSet<>();
    for (String id : shardIds) {
      try {
        String model = EntityIds.model(id);
        int replica = EntityIds.replica(id);
        if (replica < served.getOrDefault(model, 0) || servingHere.test(model, replica)) {
          out.add(id);
        }
      } catch (IllegalArgumentException e) {
        // not a replica's shard: not published
      }
    }
    return out;
  }

  /** Replicas hosted here per model, from the shard ids ({@code model#replica}) of the local region. */
  static Map<String, Integer> hostedByModel(Set<String> shardIds) {
    Map<String, Integer> out = new TreeMap<>();
    for (String id : shardIds) {
      try {
        out.merge(EntityIds.model(id), 1, Integer::sum);
      } catch (IllegalArgumentException e) {
        // not a replica's shard: not counted
      }
    }
    return out;
  }

  private void publish() {
    if (desired == null) {
      return;
    }
    Map<String, Integer> served = served(desired, repository.models(), Workers.counted(ctx.getSystem()));
    Set<String> models = new TreeSet<>(served.keySet());
    if (!models.equals(published)) {
      catalog.askUpdate(
          replyTo -> new Replicator.Update<>(ModelCatalog.KEY, LWWMap.empty(), Replicator.writeLocal(), replyTo,
              map -> map.put(self, nodeKey, new NodeModels(models, capacity.cpuSlots(), capacity.gpus(),
                  capacity.gpuMemoryMiB(), hosted))),
          response -> new Written(response, models));
    }
    // Every poll, not only on a change: a replica that stopped (its node left, it was
    // passivated) is started again wherever sharding now places it. Not once this node is
    // leaving: the local region buffers messages for shards it no longer hosts, and a
    // buffered message holds its graceful shutdown (the handoff) until the phase times out.
    if (!leaving()) {
      ClusterSharding sharding = ClusterSharding.get(ctx.getSystem());
      for (Map.Entry<String, Integer> e : served.entrySet()) {
        for (int r = 0; r < e.getValue(); r++) {
          sharding.entityRefFor(ModelProtocol.ENTITY_TYPE_KEY, EntityIds.of(e.getKey(), r))
              .tell(new ModelProtocol.GetStatus(e.getKey(), VersionSelector.latest(), ignore));
        }
      }
    }
    ShardServeMetrics.get(ctx.getSystem()).replicas(hostedByModel(hosted), served);
  }
}
