package dev.shardserve.node.entity;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.PostStop;
import akka.actor.typed.PreRestart;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.StashBuffer;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.cluster.ddata.LWWRegister;
import akka.cluster.ddata.typed.javadsl.DistributedData;
import akka.cluster.ddata.typed.javadsl.Replicator;
import akka.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import dev.shardserve.concurrent.Ticker;
import dev.shardserve.dataplane.InferCall;
import dev.shardserve.dataplane.ReplicaHandles;
import dev.shardserve.desired.DesiredState;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.desired.RepositoryRoots;
import dev.shardserve.node.NodeSettings;
import dev.shardserve.logging.LifecycleLog;
import dev.shardserve.metrics.ModelMetrics;
import dev.shardserve.metrics.ShardServeMetrics;
import dev.shardserve.node.batch.InferenceQueue;
import dev.shardserve.node.lifecycle.LoadProgress;
import dev.shardserve.node.lifecycle.VersionScanner;
import dev.shardserve.node.lifecycle.Warmup;
import dev.shardserve.node.repository.ModelRepository;
import dev.shardserve.node.runtime.InferenceException;
import dev.shardserve.node.runtime.LoadedModel;
import dev.shardserve.node.runtime.RuntimePool;
import dev.shardserve.node.runtime.SavedModelLoader;
import dev.shardserve.node.runtime.SessionSettings;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol.Command;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.GetMetadata;
import dev.shardserve.protocol.ModelProtocol.GetStatus;
import dev.shardserve.protocol.ModelProtocol.Infer;
import dev.shardserve.protocol.ModelProtocol.InferExamples;
import dev.shardserve.protocol.ModelProtocol.InferReply;
import dev.shardserve.protocol.ModelProtocol.ModelMetadata;
import dev.shardserve.protocol.ModelProtocol.StatusReply;
import dev.shardserve.protocol.Tensor;
import dev.shardserve.sharding.EntityIds;
import dev.shardserve.sharding.Workers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * One replica of one model ({@code model#replica}): the control plane of its versions. It
 * converges on the desired state ({@link DesiredState} in Distributed Data, subscribed) and on
 * what the model's folder holds (polled), through {@link Versions}: a stable new version is loaded
 * and warmed up on the load dispatcher, then switched in; a version no longer wanted is retired
 * once a wanted one is AVAILABLE and closed after its in-flight runs; a failed load is reported
 * and retried.
 *
 * <p>Nothing is served before a desired state was read: this node's copy, or (when it holds none,
 * as on a node that just joined) a read from a majority of the cluster, bounded; a majority that
 * holds none means the cluster has none, and the default applies. While no read succeeds, the
 * replica answers MODEL_NOT_READY with the reason, never a version nobody chose.
 *
 * <p>Requests do not pass through this actor. It publishes a {@link LocalReplica} handle (the data
 * plane) in the node's {@link ReplicaHandles} while it serves, and a new {@link VersionTable} on
 * every change (one volatile write: a request never meets a half-swapped replica). Requests that
 * arrive through Cluster Sharding (from another node, or while no handle was published) are
 * submitted into the same handle. Requests for a version still on its way are held here
 * ({@code Waiting}, bounded in count and bytes) and submitted again when it is ready.
 *
 * <p>Phases: <b>active</b>, either loading (nothing AVAILABLE: the handle is not in the registry,
 * so requests come through sharding and wait here) or serving (published), as the version table
 * says after each change; → <b>stopping</b> on sharding's {@link Stop} (handoff, drain, passivation):
 * the handle refuses new requests UNAVAILABLE (the gateway retries another replica), what is
 * queued and running finishes, then the actor stops. A restart (supervision) releases the handle,
 * answers what waits UNAVAILABLE and closes every version, each after its runs in flight; the
 * next incarnation ignores the load and scan results addressed to the previous one.
 */
public final class ModelEntity {

  /** A read of the desired state: from this node's replica, or from a majority of the cluster. */
  private record GotState(Replicator.GetResponse<LWWRegister<DesiredState>> response, boolean fromCluster)
      implements Command.Internal {}

  private record StateChanged(Replicator.SubscribeResponse<LWWRegister<DesiredState>> response)
      implements Command.Internal {}

  private enum Poll implements Command.Internal {
    INSTANCE
  }

  private record Scanned(Object incarnation, VersionScanner scanner, VersionScanner.Scan scan, boolean inRepository)
      implements Command.Internal {}

  private record Loaded(Object incarnation, Versions.Slot slot, LoadedModel model) implements Command.Internal {}

  private record LoadFailed(Object incarnation, Versions.Slot slot, String fingerprint, String error)
      implements Command.Internal {}

  private record Freed(Object incarnation, Versions.Slot slot) implements Command.Internal {}

  /** A request for a version still on its way, handed over by the handle; held until it is ready. */
  private record Waiting(InferCall call, Consumer<InferReply> reply) implements Command.Internal {}

  /** The queue finished what it held after the handle closed: the stop can complete. */
  private record Drained(Object incarnation) implements Command.Internal {}

  /**
   * Sharding's stop message for this entity (handoff in a rolling restart or a drain, and
   * passivation): the replica refuses new requests as UNAVAILABLE (the gateway retries them on
   * another replica), finishes what is queued and running, then stops.
   */
  public enum Stop implements Command.Internal {
    INSTANCE
  }

  public static final String LOAD_DISPATCHER = "shardserve.node.load-dispatcher";

  /**
   * How long a read of the desired state from a majority of the cluster may take (when this
   * node's replica holds none); a read that fails is tried again at the next poll.
   */
  static final Duration CLUSTER_READ_TIMEOUT = Duration.ofSeconds(5);

  private final ActorContext<Command> ctx;
  private final StashBuffer<Command> stash;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final NodeSettings settings;
  private final ModelRepository repository;
  private final RepositoryRoots roots;
  private final String model;
  private final int replica;
  private final Executor loader;
  private final Executor blocking;
  private final Ticker ticker = Ticker.SYSTEM;
  private final ReplicaHandles registry;
  private final InferenceQueue queue;
  private final LocalReplica handle;
  private final Versions versions;
  private final ModelMetrics metrics;
  private final LifecycleLog lifecycle = LifecycleLog.create();
  private long loadStartedNanos;
  private final TimerScheduler<Command> timers;

  private VersionScanner scanner;
  /** The message of the last base path refused by the repository roots (logged once per change). */
  private String refusedBase;
  private boolean scanning;
  /** A read of the desired state is in flight. */
  private boolean reading;
  /** The failure to read any desired state was logged (once). */
  private boolean unreadLogged;
  /** The listing error last shown in the status and logged (logged once per change). */
  private String shownListingError;
  private boolean keptBeyondCount;
  private CompletableFuture<LoadedModel> pendingLoad;
  private boolean published;
  private long stashedBytes;
  private Behavior<Command> active;
  private ReplicatorMessageAdapter<Command, LWWRegister<DesiredState>> replicator;

  public static Behavior<Command> create(String entityId, ActorRef<ClusterSharding.ShardCommand> shard,
      NodeSettings settings) {
    return Behaviors.<Command>supervise(Behaviors.setup(ctx -> Behaviors.withStash(settings.maxPendingWhileLoading(),
            stash -> Behaviors.withTimers(timers -> DistributedData.withReplicatorMessageAdapter(
                (ReplicatorMessageAdapter<Command, LWWRegister<DesiredState>> replicator) ->
                    new ModelEntity(ctx, stash, timers, shard, settings, entityId).start(replicator))))))
        .onFailure(SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
  }

  // Everything below lives for one incarnation: a restart runs setup again and builds a new
  // queue, handle and version set (the runtime pool and the registry are the node's and survive).
  private ModelEntity(ActorContext<Command> ctx, StashBuffer<Command> stash, TimerScheduler<Command> timers,
      ActorRef<ClusterSharding.ShardCommand> shard, NodeSettings settings, String entityId) {
    this.ctx = ctx;
    this.stash = stash;
    this.timers = timers;
    this.shard = shard;
    this.settings = settings;
    this.repository = new ModelRepository(settings.modelRepository());
    this.roots = RepositoryRoots.fromConfig(ctx.getSystem().settings().config());
    this.model = EntityIds.model(entityId);
    this.replica = EntityIds.replica(entityId);
    this.loader = ctx.getSystem().dispatchers().lookup(DispatcherSelector.fromConfig(LOAD_DISPATCHER));
    this.blocking = ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
    this.registry = ReplicaHandles.get(ctx.getSystem());
    this.metrics = ShardServeMetrics.get(ctx.getSystem()).model(model);
    // A kept replica gives up once its replacement has served for a catalog publish (a poll) and
    // its gossip, and a second for the gateways' routing tables.
    Duration gossip = ctx.getSystem().settings().config().getDuration("akka.cluster.distributed-data.gossip-interval");
    this.versions = new Versions(model, replica, settings.loadRetryMin(), settings.loadRetryMax(), metrics,
        settings.pollInterval().plus(gossip).plusSeconds(1));
    this.queue = new InferenceQueue(model, replica, ModelSpec.DEFAULT.effectiveBatching(),
        RuntimePool.get(ctx.getSystem()), metrics);
    ActorRef<Command> self = ctx.getSelf();
    this.handle = new LocalReplica(model, queue, ticker, settings.maxExamplesBytes(),
        (call, reply) -> self.tell(new Waiting(call, reply)));
  }

  private Behavior<Command> start(ReplicatorMessageAdapter<Command, LWWRegister<DesiredState>> replicator) {
    replicator.subscribe(DesiredState.KEY, StateChanged::new);
    this.replicator = replicator;
    readDesired(false);
    timers.startTimerWithFixedDelay(Poll.INSTANCE, settings.pollInterval());
    active = Behaviors.receive(Command.class)
        .onMessage(Infer.class, m -> {
          handle.submit(new InferCall.Predict(m.model(), m.version(), m.signatureName(), m.inputs(),
              deadlineNanos(m.deadlineEpochMillis())), m.replyTo()::tell);
          return Behaviors.same();
        })
        .onMessage(InferExamples.class, m -> {
          handle.submit(new InferCall.Examples(m.model(), m.version(), m.signatureName(), m.method(), m.examples(),
              m.context(), deadlineNanos(m.deadlineEpochMillis())), m.replyTo()::tell);
          return Behaviors.same();
        })
        .onMessage(GetMetadata.class, this::onMetadata)
        .onMessage(GetStatus.class, this::onStatus)
        .onMessage(GotState.class, this::onGotState)
        .onMessage(StateChanged.class, m -> {
          if (m.response() instanceof Replicator.Changed<LWWRegister<DesiredState>> c) {
            onDesired(c.dataValue().getValue());
          }
          return afterChange();
        })
        .onMessageEquals(Poll.INSTANCE, () -> {
          if (versions.desired() == null && !reading) {
            readDesired(true); // the last read from the cluster failed: try again
          }
          poll();
          return Behaviors.same();
        })
        .onMessage(Scanned.class, this::onScanned)
        .onMessage(Loaded.class, this::onLoaded)
        .onMessage(LoadFailed.class, this::onLoadFailed)
        .onMessage(Freed.class, m -> {
          if (m.incarnation() == this && versions.freed(m.slot())) {
            ctx.getLog().info("{} version {} is unloaded (END)", model, m.slot().version);
          }
          converge();
          return afterChange();
        })
        .onMessage(Drained.class, m -> Behaviors.same())
        .onSignal(PostStop.class, s -> release("replica " + replica + " of " + model + " stopped"))
        .onSignal(PreRestart.class, s -> release("replica " + replica + " of " + model + " restarted"))
        .onMessage(Waiting.class, this::onWaiting)
        .onMessageEquals(Stop.INSTANCE, this::stop)
        .build();
    return active;
  }

  // ---- desired state and repository ----

  /**
   * Reads the desired state: this node's replica first (its durable copy, or what gossip brought),
   * then, when it holds none, a majority of the cluster within {@link #CLUSTER_READ_TIMEOUT}.
   */
  private void readDesired(boolean fromCluster) {
    reading = true;
    Replicator.ReadConsistency consistency = fromCluster ? new Replicator.ReadMajority(CLUSTER_READ_TIMEOUT)
        : Replicator.readLocal();
    replicator.askGet(replyTo -> new Replicator.Get<>(DesiredState.KEY, consistency, replyTo),
        response -> new GotState(response, fromCluster));
  }

  /**
   * A replica converges only on a desired state it has read: this node's copy, else the cluster's
   * (read from a majority). When a majority answers that there is none, the cluster has none: the
   * default (serve every folder of the repository) is what everybody serves. When no majority
   * answers, the replica serves nothing and says why (MODEL_NOT_READY) until a read succeeds or
   * the state reaches this node; never a version nobody chose.
   */
  private Behavior<Command> onGotState(GotState m) {
    reading = false;
    if (m.response() instanceof Replicator.GetSuccess<LWWRegister<DesiredState>> ok) {
      onDesired(ok.dataValue().getValue());
    } else if (versions.desired() != null) {
      return Behaviors.same(); // a change arrived meanwhile
    } else if (!m.fromCluster()) {
      readDesired(true);
      return Behaviors.same(); // requests keep waiting for the read, which is bounded
    } else if (m.response() instanceof Replicator.NotFound<LWWRegister<DesiredState>>) {
      ctx.getLog().info("{} replica {}: the cluster holds no desired state; serving the default (every folder of "
          + "the repository)", model, replica);
      onDesired(DesiredState.INITIAL);
    } else {
      String reason = "its node holds no copy of the desired state, and a read from a majority of the cluster got no "
          + "answer within " + CLUSTER_READ_TIMEOUT.toMillis() + " ms (tried again every "
          + settings.pollInterval().toMillis() + " ms)";
      if (!unreadLogged) {
        unreadLogged = true; // once: the retries fail the same way
        ctx.getLog().warn("{} replica {} serves nothing yet: {}", model, replica, reason);
      }
      versions.desiredUnread(reason);
      publish(versions.table());
    }
    return afterChange();
  }

  private void onDesired(DesiredState state) {
    versions.desired(state);
    poll(); // the base path may have changed; converge on the next scan
    converge();
  }

  /**
   * The folder to scan: the model's folder in the repository, or its base path confined to the
   * repository roots (the admin API and config files refuse an outside path already; this holds
   * for a desired state written by any other means too). Throws IllegalArgumentException naming
   * the path and the roots.
   */
  private Path baseDir(ModelSpec s) {
    String base = s == null ? "" : s.basePath();
    return base.isEmpty() ? repository.root().resolve(model) : roots.confine(repository.root().resolve(base));
  }

  private void poll() {
    DesiredState desired = versions.desired();
    if (scanning || desired == null) {
      return;
    }
    Path base;
    try {
      base = baseDir(desired.models().get(model));
      refusedBase = null;
    } catch (IllegalArgumentException e) {
      if (!e.getMessage().equals(refusedBase)) {
        refusedBase = e.getMessage();
        ctx.getLog().error("{}: not loading anything: {}", model, e.getMessage());
      }
      scanner = null; // nothing is read from outside the roots, not even a listing
      return;
    }
    if (scanner == null || !scanner.base().equals(base)) {
      scanner = new VersionScanner(base, settings.pollInterval());
    }
    VersionScanner s = scanner;
    scanning = true;
    Object incarnation = this;
    ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> new Scanned(incarnation, s, s.scan(),
        repository.modelDir(model) != null), blocking), (r, e) -> r != null ? r : new Scanned(incarnation, s, null, false));
  }

  private Behavior<Command> onScanned(Scanned m) {
    if (m.incarnation() != this) {
      return Behaviors.same();
    }
    scanning = false;
    if (m.scanner() != scanner || m.scan() == null) {
      return Behaviors.same();
    }
    VersionScanner.ListingError error = m.scanner().listingError().orElse(null);
    showListingError(error == null ? null : error.message());
    versions.scanned(m.scan(), m.scanner().base(), m.inRepository(), error);
    converge();
    return afterChange();
  }

  /**
   * Logs a listing error of the model's folder once per change (appeared, changed, cleared); the
   * status shows it meanwhile (each version's message, or MODEL_NOT_READY while none is held).
   */
  private void showListingError(String message) {
    if (java.util.Objects.equals(message, shownListingError)) {
      return;
    }
    if (message == null) {
      ctx.getLog().info("{} replica {}: the versions in {} can be listed again", model, replica, scanner.base());
    } else {
      ctx.getLog().warn("{} replica {}: cannot list the versions in {}: {}; serving what the last successful "
          + "listing found, and saying so in its status", model, replica, scanner.base(), message);
    }
    shownListingError = message;
  }

  /** One convergence step: start a load, retire versions, passivate when not served. */
  private void converge() {
    Versions.Steps steps = versions.converge(ticker.nanos(), Workers.counted(ctx.getSystem()),
        r -> registry.find(model, r) != null);
    if (versions.keptBeyondCount() != keptBeyondCount) {
      keptBeyondCount = versions.keptBeyondCount();
      if (keptBeyondCount) {
        ctx.getLog().info("{} replica {} is beyond the model's replica count now (fewer worker nodes) and keeps "
            + "serving until a replacement serves on this node", model, replica);
      } else {
        ctx.getLog().info("{} replica {} is within the replica count again, or its replacement serves", model,
            replica);
      }
    }
    ModelSpec spec = versions.spec();
    if (spec != null && !spec.effectiveBatching().equals(queue.spec())) {
      queue.spec(spec.effectiveBatching());
    }
    publish(versions.table()); // before a retired version is closed: new requests go elsewhere
    for (Versions.Slot s : steps.retire()) {
      retire(s);
    }
    if (steps.load() != null) {
      load(steps.load());
    }
    if (steps.passivate()) {
      ctx.getLog().debug("{} is not served by replica {}: passivating", model, replica);
      shard.tell(new ClusterSharding.Passivate<>(ctx.getSelf()));
    }
  }

  /** After a change (published by {@link #converge}): let waiting requests try again. */
  private Behavior<Command> afterChange() {
    if (stash.isEmpty()) {
      return Behaviors.same();
    }
    stashedBytes = 0;
    return stash.unstashAll(active);
  }

  /** Loading or serving: the handle is in the node's registry exactly while something is AVAILABLE. */
  private void publish(VersionTable table) {
    handle.publish(table);
    boolean serve = table.serving();
    if (serve && !published) {
      registry.publish(model, replica, handle);
      published = true;
    } else if (!serve && published) {
      registry.remove(model, replica, handle);
      published = false;
    }
  }

  private void load(Versions.Slot slot) {
    Path dir = slot.dir;
    long version = slot.version;
    String fingerprint = slot.fingerprint;
    boolean stateful = versions.spec().stateful();
    // the model's device (gpu|cpu|any): a cpu model's session sees no GPU, a gpu one fails to load without one
    SessionSettings session = settings.session().forDevice(versions.spec().device());
    ctx.getLog().info("loading {} version {} from {}", model, version, dir);
    lifecycle.versionLoading(model, version);
    loadStartedNanos = ticker.nanos();
    LoadProgress progress = new LoadProgress(lifecycle, model, version, ticker);
    akka.actor.Cancellable reports = ctx.getSystem().scheduler().scheduleAtFixedRate(LoadProgress.EVERY,
        LoadProgress.EVERY, () -> progress.report(), ctx.getSystem().executionContext());
    pendingLoad = CompletableFuture.supplyAsync(() -> {
      LoadedModel loaded = SavedModelLoader.load(dir, version, session);
      try {
        Warmup.run(loaded, dir, settings.syntheticWarmupRuns(), stateful, progress);
        return loaded;
      } catch (RuntimeException e) {
        loaded.close();
        throw e;
      }
    }, loader);
    pendingLoad.whenComplete((m, e) -> {
      progress.finished();
      reports.cancel();
    });
    Object incarnation = this;
    ctx.pipeToSelf(pendingLoad, (m, error) -> m != null ? new Loaded(incarnation, slot, m)
        : new LoadFailed(incarnation, slot, fingerprint, rootMessage(error)));
  }

  private Behavior<Command> onLoaded(Loaded m) {
    if (m.incarnation() != this) {
      return Behaviors.same(); // the previous incarnation closes what it loaded
    }
    pendingLoad = null;
    long took = ticker.nanos() - loadStartedNanos;
    metrics.loaded(took);
    long version = m.slot().version;
    if (versions.loaded(m.slot(), m.model())) {
      ctx.getLog().info("{} version {} is AVAILABLE (from {})", model, version, m.slot().dir);
      lifecycle.versionLoaded(model, version, Duration.ofNanos(took));
    } else {
      m.model().close();
    }
    converge();
    return afterChange();
  }

  private Behavior<Command> onLoadFailed(LoadFailed m) {
    if (m.incarnation() != this) {
      return Behaviors.same();
    }
    pendingLoad = null;
    metrics.loadFailed();
    long version = m.slot().version;
    lifecycle.versionLoadFailed(model, version, m.error());
    Duration backoff = versions.loadFailed(m.slot(), m.fingerprint(), m.error(), ticker.nanos());
    ctx.getLog().warn("{} version {} failed to load (retry in {} or when its files change): {}", model,
        version, backoff, m.error());
    converge();
    return afterChange();
  }

  private void retire(Versions.Slot slot) {
    LoadedModel m = slot.model;
    ctx.getLog().info("{} version {} (from {}) is UNLOADING (closed after its runs in flight)", model, slot.version,
        slot.dir);
    lifecycle.versionRetired(model, slot.version);
    m.close();
    Object incarnation = this;
    ctx.pipeToSelf(m.whenFreed(), (v, e) -> new Freed(incarnation, slot));
  }

  // ---- requests that reach the actor ----

  /**
   * A request the handle could not place: submitted again when its version is ready now (this
   * actor publishes the table, so it cannot change under this check), else held.
   */
  private Behavior<Command> onWaiting(Waiting w) {
    if (handle.table().resolve(w.call().version()) == VersionTable.WAIT) {
      return hold(w);
    }
    handle.submit(w.call(), w.reply());
    return Behaviors.same();
  }

  /** Holds a request for a version on its way (bounded in count and bytes), or refuses it. */
  private Behavior<Command> hold(Waiting w) {
    long bytes = bytes(w.call());
    if (stash.isFull() || stashedBytes + bytes > settings.maxPendingBytesWhileLoading()) {
      w.reply().accept(new Failure(ErrorCode.OVERLOADED, model + " is loading and " + stash.size()
          + " requests (" + stashedBytes + " bytes) already wait for it"));
      return Behaviors.same();
    }
    stashedBytes += bytes;
    stash.stash(w);
    return Behaviors.same();
  }

  private static long bytes(InferCall call) {
    long n = 0;
    if (call instanceof InferCall.Predict p) {
      for (Tensor t : p.inputs().values()) {
        n += t.byteSize();
      }
    } else if (call instanceof InferCall.Examples e) {
      n = LoadedModel.expandedExamplesBytes(e.examples(), e.context());
    }
    return n;
  }

  private Behavior<Command> onMetadata(GetMetadata m) {
    Object r = handle.table().resolve(m.version());
    if (r == VersionTable.WAIT) {
      return holdQuery(m, m.replyTo());
    }
    if (r instanceof Failure f) {
      m.replyTo().tell(f);
    } else {
      LoadedModel loaded = (LoadedModel) r;
      m.replyTo().tell(new ModelMetadata(loaded.version(), loaded.signatures()));
    }
    return Behaviors.same();
  }

  /** TF Serving's status: every version for Latest, one for a version or a label. */
  private Behavior<Command> onStatus(GetStatus m) {
    StatusReply reply = versions.status(m.version());
    if (reply == null) {
      return holdQuery(m, m.replyTo());
    }
    m.replyTo().tell(reply);
    return Behaviors.same();
  }

  private <R> Behavior<Command> holdQuery(Command m, ActorRef<R> replyTo) {
    if (stash.isFull()) {
      @SuppressWarnings("unchecked")
      ActorRef<Object> to = (ActorRef<Object>) (ActorRef<?>) replyTo;
      to.tell(new Failure(ErrorCode.OVERLOADED, model + " is loading and " + stash.size()
          + " requests already wait for it"));
    } else {
      stash.stash(m);
    }
    return Behaviors.same();
  }

  // ---- stopping ----

  private Behavior<Command> stop() {
    String reason = "replica " + replica + " of " + model + " is stopping (handoff or drain)";
    if (versions.spec() != null && versions.spec().stateful() && published) {
      // Rebalancing never moves a stateful replica; a drain or a rolling restart does.
      ctx.getLog().warn("state loss: stateful replica {} of {} is stopping (its node drains or leaves); it starts "
          + "again from its saved model on another node, without the state it held", replica, model);
    }
    ctx.getLog().info("replica {} of {} is stopping: finishing {} queued requests and {} running batches", replica,
        model, queue.queuedRequests(), queue.running());
    handle.close(reason);
    if (published) {
      registry.remove(model, replica, handle);
      published = false;
    }
    Object incarnation = this;
    ActorRef<Command> self = ctx.getSelf();
    queue.close(reason, () -> self.tell(new Drained(incarnation)));
    Behavior<Command> stopping = Behaviors.receive(Command.class)
        .onMessage(Infer.class, m -> refuse(m.replyTo(), reason))
        .onMessage(InferExamples.class, m -> refuse(m.replyTo(), reason))
        .onMessage(Waiting.class, m -> {
          m.reply().accept(new Failure(ErrorCode.UNAVAILABLE, reason));
          return Behaviors.same();
        })
        .onMessage(GetMetadata.class, m -> refuse(m.replyTo(), reason))
        .onMessage(GetStatus.class, this::onStatus)
        .onMessage(Drained.class, m -> m.incarnation() == this ? Behaviors.stopped() : Behaviors.same())
        .onMessage(Freed.class, m -> {
          if (m.incarnation() == this) {
            versions.freed(m.slot());
          }
          return Behaviors.same();
        })
        .onMessage(Loaded.class, m -> {
          if (m.incarnation() == this) {
            m.model().close(); // too late to serve
          }
          return Behaviors.same();
        })
        .onSignal(PostStop.class, s -> release(reason))
        .onSignal(PreRestart.class, s -> release(reason))
        .build();
    stashedBytes = 0;
    return stash.isEmpty() ? stopping : stash.unstashAll(stopping); // waiting requests are refused now
  }

  private static <R> Behavior<Command> refuse(ActorRef<R> replyTo, String reason) {
    @SuppressWarnings("unchecked")
    ActorRef<Object> to = (ActorRef<Object>) (ActorRef<?>) replyTo;
    to.tell(new Failure(ErrorCode.UNAVAILABLE, reason));
    return Behaviors.same();
  }

  // ---- helpers ----

  private long deadlineNanos(long deadlineEpochMillis) {
    // Rebased to this JVM's monotonic clock on arrival (nanoTime origins differ between JVMs).
    long remainingMillis = deadlineEpochMillis - System.currentTimeMillis();
    return ticker.nanos() + remainingMillis * 1_000_000L;
  }

  /**
   * Releases what this incarnation holds: the handle refuses and leaves the registry, waiting
   * requests are answered UNAVAILABLE, and every version is closed (each after its runs in
   * flight), as is a load whose result will never be handled.
   */
  private Behavior<Command> release(String reason) {
    handle.close(reason);
    registry.remove(model, replica, handle);
    published = false;
    queue.abort(reason);
    stash.forEach(m -> {
      if (m instanceof Waiting w) {
        w.reply().accept(new Failure(ErrorCode.UNAVAILABLE, reason));
      }
    });
    for (LoadedModel m : versions.releaseAll()) {
      ctx.getLog().info("closing {} version {}", model, m.version());
      m.close();
    }
    if (pendingLoad != null) {
      pendingLoad.thenAccept(LoadedModel::close);
      pendingLoad = null;
    }
    return Behaviors.same();
  }

  private static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c && !(c instanceof InferenceException)) {
      c = c.getCause();
    }
    return String.valueOf(c.getMessage());
  }
}
