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
import dev.shardserve.desired.DesiredState;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.node.NodeSettings;
import dev.shardserve.node.batching.BatchMetrics;
import dev.shardserve.node.batching.Batcher;
import dev.shardserve.node.batching.RuntimePool;
import dev.shardserve.node.batching.TensorRows;
import dev.shardserve.node.lifecycle.VersionPlan;
import dev.shardserve.node.lifecycle.VersionScanner;
import dev.shardserve.node.lifecycle.Warmup;
import dev.shardserve.node.repository.ModelRepository;
import dev.shardserve.node.runtime.InferenceException;
import dev.shardserve.node.runtime.LoadedModel;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol.Command;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.GetMetadata;
import dev.shardserve.protocol.ModelProtocol.GetStatus;
import dev.shardserve.protocol.ModelProtocol.Infer;
import dev.shardserve.protocol.ModelProtocol.InferExamples;
import dev.shardserve.protocol.ModelProtocol.InferReply;
import dev.shardserve.protocol.ModelProtocol.InferResult;
import dev.shardserve.protocol.ModelProtocol.ModelMetadata;
import dev.shardserve.protocol.ModelProtocol.ModelStatus;
import dev.shardserve.protocol.ModelProtocol.VersionState;
import dev.shardserve.protocol.ModelProtocol.VersionStatus;
import dev.shardserve.protocol.Tensor;
import dev.shardserve.protocol.VersionSelector;
import dev.shardserve.sharding.EntityIds;
import dev.shardserve.sharding.Workers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * One replica of one model ({@code model#replica}). It holds every version its policy wants,
 * each in TF Serving's states (START, LOADING, AVAILABLE, UNLOADING, END), and converges on the
 * desired state:
 * <ul>
 *   <li>the spec comes from {@link DesiredState} in Distributed Data (subscribed, so a policy,
 *       label or rollback change reaches every replica on every node);</li>
 *   <li>the model's folder is polled; a stable new version is loaded and warmed up on the load
 *       dispatcher, then switched in by one state change of this actor (atomic for requests);</li>
 *   <li>a version no longer wanted is retired once a wanted one is AVAILABLE and closed after its
 *       in-flight runs ({@link LoadedModel} counts them); a failed load is reported in the status
 *       with its error and retried with backoff, or at once when its files change, while the
 *       versions already serving keep serving.</li>
 * </ul>
 * Requests that name a version still loading wait (bounded) instead of failing. TensorFlow runs
 * on the node's {@link RuntimePool} in batches formed by this replica's {@link Batcher}, results
 * come back by {@code pipeToSelf}; status is answered from
 * this actor's state, never behind inference. A stateful model runs one request at a time, never
 * batched. On
 * stop or restart every version is closed, each after its runs in flight.
 */
public final class ModelEntity {

  private record GotState(Replicator.GetResponse<LWWRegister<DesiredState>> response) implements Command.Internal {}

  private record StateChanged(Replicator.SubscribeResponse<LWWRegister<DesiredState>> response)
      implements Command.Internal {}

  private enum Poll implements Command.Internal {
    INSTANCE
  }

  private record Scanned(VersionScanner scanner, VersionScanner.Scan scan, boolean inRepository)
      implements Command.Internal {}

  private record Loaded(long version, LoadedModel model) implements Command.Internal {}

  private record LoadFailed(long version, String fingerprint, String error) implements Command.Internal {}

  private record Freed(long version) implements Command.Internal {}

  /** A request waiting in the batcher: who to answer, the version it holds a reference on. */
  private record Handle(ActorRef<InferReply> replyTo, LoadedModel model, String signature,
      Function<LoadedModel, Map<String, Tensor>> alone, long enqueuedNanos, long deadlineNanos) {}

  /** Requests that may share a batch: same version, signature, input names, dtypes and inner dimensions. */
  private record GroupKey(long version, String signature, Map<String, String> inputs) {}

  private record BatchDone(Batcher.Batch<Handle> batch, Map<String, Tensor> outputs, ErrorCode code, String error,
      long computeNanos) implements Command.Internal {}

  private enum BatchTick implements Command.Internal {
    INSTANCE
  }

  /**
   * Sharding's stop message for this entity (handoff in a rolling restart or a drain, and
   * passivation): the replica refuses new requests as UNAVAILABLE (the gateway retries them on
   * another replica), finishes what is queued and running, then stops.
   */
  public enum Stop implements Command.Internal {
    INSTANCE
  }

  public static final String LOAD_DISPATCHER = "shardserve.node.load-dispatcher";

  /** One version as this replica holds it. */
  private static final class Slot {
    final long version;
    VersionState state = VersionState.START;
    String error;
    LoadedModel model;
    String fingerprint;
    String failedFingerprint;
    long retryAtNanos;

    Slot(long version) {
      this.version = version;
    }

    boolean retryDue(long now) {
      return error == null || now - retryAtNanos >= 0
          || (fingerprint != null && !fingerprint.equals(failedFingerprint));
    }
  }

  /** Marker: the request must wait for a version that is still on its way. */
  private static final Object WAIT = new Object();

  private final ActorContext<Command> ctx;
  private final StashBuffer<Command> stash;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final NodeSettings settings;
  private final ModelRepository repository;
  private final String model;
  private final int replica;
  private final Executor loader;
  private final Executor blocking;

  private Behavior<Command> behavior;
  private DesiredState desired;
  private ModelSpec spec;
  private VersionScanner scanner;
  private boolean scanning;
  private boolean inRepository;
  private VersionScanner.Scan lastScan;
  private final TreeMap<Long, Slot> slots = new TreeMap<>();
  private Long loadingVersion;
  private CompletableFuture<LoadedModel> pendingLoad;
  private Duration nextBackoff;
  private boolean passivating;
  private TimerScheduler<Command> timers;
  private final RuntimePool pool;
  private final BatchMetrics metrics;
  /** Requests wait here for a runtime thread; the spec's batching applies (a stateful model: one at a time). */
  private final Batcher<Handle> batcher;
  /** Batches running now (at most the spec's parallel-batches). */
  private int running;
  /** Sharding asked this replica to stop: no new work, finish the rest. */
  private boolean stopping;

  public static Behavior<Command> create(String entityId, ActorRef<ClusterSharding.ShardCommand> shard,
      NodeSettings settings) {
    return Behaviors.<Command>supervise(Behaviors.setup(ctx -> Behaviors.withStash(settings.maxPendingWhileLoading(),
            stash -> Behaviors.withTimers(timers -> DistributedData.withReplicatorMessageAdapter(
                (ReplicatorMessageAdapter<Command, LWWRegister<DesiredState>> replicator) ->
                    new ModelEntity(ctx, stash, shard, settings, entityId).start(timers, replicator))))))
        .onFailure(SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
  }

  private ModelEntity(ActorContext<Command> ctx, StashBuffer<Command> stash,
      ActorRef<ClusterSharding.ShardCommand> shard, NodeSettings settings, String entityId) {
    this.ctx = ctx;
    this.stash = stash;
    this.shard = shard;
    this.settings = settings;
    this.repository = new ModelRepository(settings.modelRepository());
    this.model = EntityIds.model(entityId);
    this.replica = EntityIds.replica(entityId);
    this.loader = ctx.getSystem().dispatchers().lookup(DispatcherSelector.fromConfig(LOAD_DISPATCHER));
    this.blocking = ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
    this.nextBackoff = settings.loadRetryMin();
    this.pool = RuntimePool.get(ctx.getSystem());
    this.metrics = BatchMetrics.of(model);
    this.batcher = new Batcher<>(ModelSpec.DEFAULT.effectiveBatching(), System::nanoTime);
  }

  private Behavior<Command> start(TimerScheduler<Command> timers,
      ReplicatorMessageAdapter<Command, LWWRegister<DesiredState>> replicator) {
    replicator.subscribe(DesiredState.KEY, StateChanged::new);
    replicator.askGet(replyTo -> new Replicator.Get<>(DesiredState.KEY, Replicator.readLocal(), replyTo),
        GotState::new);
    timers.startTimerWithFixedDelay(Poll.INSTANCE, settings.pollInterval());
    this.timers = timers;
    behavior = Behaviors.receive(Command.class)
        .onMessage(Infer.class, m -> request(m, m.version(), m.replyTo(), slot -> runInfer(m, slot)))
        .onMessage(InferExamples.class, m -> request(m, m.version(), m.replyTo(), slot -> runExamples(m, slot)))
        .onMessage(GetMetadata.class, this::onMetadata)
        .onMessage(GetStatus.class, this::onStatus)
        .onMessage(BatchDone.class, this::onBatchDone)
        .onMessageEquals(Stop.INSTANCE, this::onStop)
        .onMessageEquals(BatchTick.INSTANCE, () -> {
          dispatch();
          return Behaviors.same();
        })
        .onMessage(GotState.class, m -> {
          if (m.response() instanceof Replicator.GetSuccess<LWWRegister<DesiredState>> ok) {
            onDesired(ok.dataValue().getValue());
          } else if (desired == null) {
            onDesired(DesiredState.INITIAL);
          }
          return afterChange();
        })
        .onMessage(StateChanged.class, m -> {
          if (m.response() instanceof Replicator.Changed<LWWRegister<DesiredState>> c) {
            onDesired(c.dataValue().getValue());
          }
          return afterChange();
        })
        .onMessageEquals(Poll.INSTANCE, () -> {
          poll();
          return Behaviors.same();
        })
        .onMessage(Scanned.class, this::onScanned)
        .onMessage(Loaded.class, this::onLoaded)
        .onMessage(LoadFailed.class, this::onLoadFailed)
        .onMessage(Freed.class, m -> {
          Slot s = slots.get(m.version());
          if (s != null && s.state == VersionState.UNLOADING) {
            s.state = VersionState.END;
            s.model = null;
            ctx.getLog().info("{} version {} is unloaded (END)", model, m.version());
          }
          converge();
          return afterChange();
        })
        .onSignal(PostStop.class, s -> release())
        .onSignal(PreRestart.class, s -> release())
        .build();
    return behavior;
  }

  // ---- desired state and repository ----

  private void onDesired(DesiredState state) {
    desired = state;
    poll(); // the base path may have changed; converge on the next scan
    converge();
  }

  private Path baseDir(ModelSpec s) {
    String base = s == null ? "" : s.basePath();
    return base.isEmpty() ? repository.root().resolve(model) : repository.root().resolve(base);
  }

  private void poll() {
    if (scanning || desired == null) {
      return;
    }
    ModelSpec named = desired.models().get(model);
    Path base = baseDir(named);
    if (scanner == null || !scanner.base().equals(base)) {
      scanner = new VersionScanner(base, settings.pollInterval());
    }
    VersionScanner s = scanner;
    scanning = true;
    ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> new Scanned(s, s.scan(), repository.modelDir(model) != null),
        blocking), (r, e) -> r != null ? r : new Scanned(s, null, false));
  }

  private Behavior<Command> onScanned(Scanned m) {
    scanning = false;
    if (m.scanner() != scanner || m.scan() == null) {
      return Behaviors.same();
    }
    lastScan = m.scan();
    inRepository = m.inRepository();
    for (Slot slot : slots.values()) {
      VersionScanner.Seen seen = lastScan.stable().get(slot.version);
      if (seen != null) {
        slot.fingerprint = seen.fingerprint();
      }
    }
    converge();
    return afterChange();
  }

  /** Brings the held versions one step closer to the desired ones; then lets waiting requests retry. */
  private void converge() {
    if (desired == null || lastScan == null) {
      return;
    }
    spec = desired.effective(model, inRepository || desired.models().containsKey(model));
    if (spec != null && replica >= spec.replicasFor(Workers.up(ctx.getSystem()))) {
      spec = null;
    }
    if (spec != null && !spec.effectiveBatching().equals(batcher.spec())) {
      batcher.spec(spec.effectiveBatching());
    }
    long now = System.nanoTime();
    SortedSet<Long> wanted = spec == null ? new TreeSet<>() : spec.policy().select(new TreeSet<>(lastScan.stable().keySet()));
    Map<Long, VersionPlan.Held> held = new HashMap<>();
    for (Slot s : slots.values()) {
      held.put(s.version, new VersionPlan.Held(s.state, s.retryDue(now)));
    }
    VersionPlan.Steps steps = VersionPlan.plan(wanted, spec == null ? new TreeSet<>() : lastScan.onDisk(), held,
        loadingVersion != null);
    for (Long v : wanted) {
      slots.computeIfAbsent(v, Slot::new);
    }
    for (Long v : steps.retire()) {
      retire(slots.get(v));
    }
    for (Long v : steps.forget()) {
      slots.remove(v);
    }
    if (steps.load() != null) {
      load(slots.get(steps.load()));
    }
    if (spec == null && loadingVersion == null && !passivating
        && slots.values().stream().noneMatch(s -> s.state == VersionState.UNLOADING || s.state == VersionState.AVAILABLE)) {
      passivating = true;
      ctx.getLog().debug("{} is not served by replica {}: passivating", model, replica);
      shard.tell(new ClusterSharding.Passivate<>(ctx.getSelf()));
    } else if (spec != null) {
      passivating = false;
    }
  }

  /** After a change of state: requests that waited try again (those still waiting stash again). */
  private Behavior<Command> afterChange() {
    return stash.isEmpty() ? Behaviors.same() : stash.unstashAll(behavior);
  }

  private void load(Slot slot) {
    VersionScanner.Seen seen = lastScan.stable().get(slot.version);
    if (seen == null) {
      return;
    }
    long version = slot.version;
    String fingerprint = seen.fingerprint();
    boolean stateful = spec.stateful();
    slot.state = VersionState.LOADING;
    slot.fingerprint = fingerprint;
    loadingVersion = version;
    ctx.getLog().info("loading {} version {} from {}", model, version, seen.dir());
    pendingLoad = CompletableFuture.supplyAsync(() -> {
      LoadedModel loaded = LoadedModel.load(seen.dir(), version, settings.session());
      try {
        Warmup.run(loaded, seen.dir(), settings.syntheticWarmupRuns(), stateful);
        return loaded;
      } catch (RuntimeException e) {
        loaded.close();
        throw e;
      }
    }, loader);
    ctx.pipeToSelf(pendingLoad, (m, error) -> m != null ? new Loaded(version, m)
        : new LoadFailed(version, fingerprint, rootMessage(error)));
  }

  private Behavior<Command> onLoaded(Loaded m) {
    pendingLoad = null;
    loadingVersion = null;
    Slot slot = slots.get(m.version());
    if (slot == null) {
      m.model().close();
    } else {
      slot.state = VersionState.AVAILABLE;
      slot.error = null;
      slot.model = m.model();
      nextBackoff = settings.loadRetryMin();
      ctx.getLog().info("{} version {} is AVAILABLE", model, m.version());
    }
    converge();
    return afterChange();
  }

  private Behavior<Command> onLoadFailed(LoadFailed m) {
    pendingLoad = null;
    loadingVersion = null;
    Slot slot = slots.get(m.version());
    if (slot != null) {
      slot.state = VersionState.END;
      slot.error = m.error();
      slot.failedFingerprint = m.fingerprint();
      slot.retryAtNanos = System.nanoTime() + nextBackoff.toNanos();
      ctx.getLog().warn("{} version {} failed to load (retry in {} or when its files change): {}", model,
          m.version(), nextBackoff, m.error());
      nextBackoff = min(nextBackoff.multipliedBy(2), settings.loadRetryMax());
    }
    converge();
    return afterChange();
  }

  private void retire(Slot slot) {
    slot.state = VersionState.UNLOADING;
    LoadedModel m = slot.model;
    ctx.getLog().info("{} version {} is UNLOADING (closed after its runs in flight)", model, slot.version);
    m.close();
    ctx.pipeToSelf(m.whenFreed(), (v, e) -> new Freed(slot.version));
  }

  // ---- requests ----

  /** Resolves the selector to an AVAILABLE version, a {@link Failure}, or {@link #WAIT}. */
  private Object resolve(VersionSelector selector) {
    if (desired == null || lastScan == null) {
      return WAIT;
    }
    if (spec == null) {
      return new Failure(ErrorCode.MODEL_NOT_FOUND, "Servable not found for request: " + selector.describe(model));
    }
    // Still on its way: a load runs or is due, or a version folder is on disk but not yet stable.
    boolean inProgress = loadingVersion != null || slots.values().stream().anyMatch(s -> s.state == VersionState.START)
        || !lastScan.stable().keySet().containsAll(lastScan.onDisk());
    if (selector instanceof VersionSelector.Specific sp) {
      return resolveVersion(sp.version(), inProgress,
          () -> new Failure(ErrorCode.VERSION_NOT_FOUND, "Servable not found for request: " + sp.describe(model)));
    }
    if (selector instanceof VersionSelector.Label l) {
      Long v = spec.labels().get(l.label());
      if (v == null) {
        return new Failure(ErrorCode.LABEL_NOT_FOUND, "Unrecognized servable version label: " + l.label());
      }
      return resolveVersion(v, inProgress, () -> new Failure(ErrorCode.LABEL_NOT_FOUND, "Label '" + l.label()
          + "' of model " + model + " points at version " + v + ", which is not AVAILABLE"));
    }
    SortedSet<Long> wanted = spec.policy().select(new TreeSet<>(lastScan.stable().keySet()));
    Slot best = null;
    for (Slot s : slots.descendingMap().values()) {
      if (s.state == VersionState.AVAILABLE && (wanted.contains(s.version) || best == null)) {
        if (wanted.contains(s.version)) {
          return s;
        }
        best = s;
      }
    }
    if (best != null) {
      return best;
    }
    if (inProgress) {
      return WAIT;
    }
    for (Slot s : slots.descendingMap().values()) {
      if (s.error != null) {
        return new Failure(ErrorCode.MODEL_LOAD_FAILED, model + " version " + s.version + " failed to load: "
            + s.error);
      }
    }
    return new Failure(ErrorCode.MODEL_NOT_FOUND, "Servable not found for request: " + selector.describe(model));
  }

  private Object resolveVersion(long v, boolean inProgress, java.util.function.Supplier<Failure> notThere) {
    Slot s = slots.get(v);
    if (s != null && s.state == VersionState.AVAILABLE) {
      return s;
    }
    if (s != null && (s.state == VersionState.LOADING || s.state == VersionState.START) && inProgress) {
      return WAIT;
    }
    if (s == null && lastScan.onDisk().contains(v) && !lastScan.stable().containsKey(v)) {
      return WAIT; // its folder is still being written
    }
    if (s != null && s.error != null) {
      return new Failure(ErrorCode.MODEL_LOAD_FAILED, model + " version " + v + " failed to load: " + s.error);
    }
    return notThere.get();
  }

  private Behavior<Command> onStop() {
    if (!stopping) {
      stopping = true;
      ctx.getLog().info("replica {} of {} is stopping: finishing {} queued and {} running batches", replica, model,
          batcher.queuedRequests(), running);
      stash.unstashAll(behavior); // waiting requests are now refused as UNAVAILABLE
    }
    return stopWhenIdle();
  }

  private Behavior<Command> stopWhenIdle() {
    return stopping && running == 0 && batcher.isEmpty() ? Behaviors.stopped() : Behaviors.same();
  }

  private Behavior<Command> request(Command m, VersionSelector selector, ActorRef<InferReply> replyTo,
      Function<Slot, Behavior<Command>> serve) {
    if (stopping) {
      replyTo.tell(new Failure(ErrorCode.UNAVAILABLE, "replica " + replica + " of " + model
          + " is stopping (handoff or drain)"));
      return Behaviors.same();
    }
    if (expired(m)) {
      replyTo.tell(new Failure(ErrorCode.DEADLINE_EXCEEDED, "deadline exceeded before " + model + " could run it"));
      return Behaviors.same();
    }
    Object r = resolve(selector);
    if (r == WAIT) {
      return waitFor(m, replyTo);
    }
    if (r instanceof Failure f) {
      replyTo.tell(f);
      return Behaviors.same();
    }
    return serve.apply((Slot) r);
  }

  private <R> Behavior<Command> waitFor(Command m, ActorRef<R> replyTo) {
    if (stopping) {
      @SuppressWarnings("unchecked")
      ActorRef<Object> to = (ActorRef<Object>) (ActorRef<?>) replyTo;
      to.tell(new Failure(ErrorCode.UNAVAILABLE, "replica " + replica + " of " + model + " is stopping"));
      return Behaviors.same();
    }
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

  private Behavior<Command> runInfer(Infer m, Slot slot) {
    LoadedModel loaded = slot.model;
    Map<String, Tensor> inputs;
    try {
      inputs = loaded.prepare(m.signatureName(), m.inputs()); // each request checked alone
    } catch (InferenceException e) {
      m.replyTo().tell(new Failure(e.code(), e.getMessage()));
      return Behaviors.same();
    }
    Object key = null;
    int rows = commonRows(inputs);
    if (rows > 0 && batcher.spec().enabled() && loaded.batchable(m.signatureName())) {
      Map<String, String> shapes = new TreeMap<>();
      inputs.forEach((name, t) -> shapes.put(name, TensorRows.innerKey(t)));
      key = new GroupKey(slot.version, m.signatureName(), shapes);
    }
    return enqueue(m.replyTo(), loaded, m.signatureName(), null, key, inputs, key == null ? 1 : rows,
        m.deadlineEpochMillis());
  }

  private Behavior<Command> runExamples(InferExamples m, Slot slot) {
    return enqueue(m.replyTo(), slot.model, m.signatureName(),
        loaded -> loaded.runExamples(m.signatureName(), m.method(), m.examples(), m.context()), null, Map.of(), 1,
        m.deadlineEpochMillis());
  }

  /** The first dimension all inputs share, or -1 (a scalar, or inputs that disagree). */
  private static int commonRows(Map<String, Tensor> inputs) {
    int rows = -1;
    for (Tensor t : inputs.values()) {
      if (t.rank() == 0 || (rows >= 0 && t.shape()[0] != rows) || t.shape()[0] < 1) {
        return -1;
      }
      rows = (int) t.shape()[0];
    }
    return rows;
  }

  /**
   * Queues a request, holding a reference on its version until it is answered (so a version
   * retired meanwhile is closed only after its queued and running requests); a full queue
   * answers OVERLOADED at once.
   */
  private Behavior<Command> enqueue(ActorRef<InferReply> replyTo, LoadedModel loaded, String signature,
      Function<LoadedModel, Map<String, Tensor>> alone, Object key, Map<String, Tensor> inputs, int rows,
      long deadlineEpochMillis) {
    if (!loaded.acquire()) {
      replyTo.tell(new Failure(ErrorCode.UNAVAILABLE, model + " version " + loaded.version() + " was just unloaded"));
      return Behaviors.same();
    }
    long now = System.nanoTime();
    Handle h = new Handle(replyTo, loaded, signature, alone, now, deadlineNanos(deadlineEpochMillis));
    Batcher.Refusal refused = batcher.offer(h, key, inputs, rows, h.deadlineNanos());
    if (refused == Batcher.Refusal.FULL) {
      loaded.release();
      metrics.reject(BatchMetrics.Reject.QUEUE_FULL);
      replyTo.tell(new Failure(ErrorCode.OVERLOADED, model + " has " + batcher.queuedRequests()
          + " requests queued, its max-queued-requests"));
      return Behaviors.same();
    }
    if (refused == Batcher.Refusal.TOO_LARGE) {
      loaded.release();
      metrics.reject(BatchMetrics.Reject.TOO_LARGE);
      replyTo.tell(new Failure(ErrorCode.INVALID_INPUT, "the request has " + rows + " rows, more than "
          + model + "'s max-batch-size of " + batcher.spec().maxBatchSize() + ", and split-large-requests is off"));
      return Behaviors.same();
    }
    metrics.requests.increment();
    dispatch();
    return Behaviors.same();
  }

  /**
   * Answers expired requests (never run), starts ready batches while fewer than
   * parallel-batches run, and sets a timer for the next group that becomes ready.
   */
  private void dispatch() {
    for (Batcher.Failed<Handle> f : batcher.expire()) {
      metrics.reject(BatchMetrics.Reject.DEADLINE_EXPIRED);
      finish(f, null);
    }
    int parallel = batcher.spec().parallelBatches() > 0 ? batcher.spec().parallelBatches() : pool.threads();
    while (running < parallel) {
      Batcher.Batch<Handle> b = batcher.next();
      if (b == null) {
        break;
      }
      start(b);
    }
    metrics.queueLength.set(batcher.queuedRequests());
    long next = batcher.nextReadyNanos();
    if (running < parallel && next != Long.MAX_VALUE) {
      long delay = Math.max(next - System.nanoTime(), 0);
      timers.startSingleTimer(BatchTick.INSTANCE, Duration.ofNanos(Math.max(delay, 100_000)));
    }
  }

  /** Runs a batch on a runtime thread, in this model's turn; the result comes back as {@link BatchDone}. */
  private void start(Batcher.Batch<Handle> batch) {
    running++;
    long now = System.nanoTime();
    metrics.batches.increment();
    metrics.batchRows.recordValue(batch.rows());
    List<Handle> handles = batch.handles();
    for (Handle h : handles) {
      metrics.queueWaitMicros.recordValue(Math.max(0, (now - h.enqueuedNanos()) / 1000));
    }
    Handle first = handles.get(0);
    LoadedModel loaded = first.model();
    CompletableFuture<BatchDone> done = new CompletableFuture<>();
    pool.submit(model, () -> {
      long t0 = System.nanoTime();
      boolean allExpired = true;
      for (Handle h : handles) {
        allExpired &= t0 - h.deadlineNanos() > 0;
      }
      if (allExpired) {
        done.complete(new BatchDone(batch, null, ErrorCode.DEADLINE_EXCEEDED,
            "deadline exceeded before " + model + " could run it", 0));
        return;
      }
      try {
        Map<String, Tensor> outputs = first.alone() != null ? first.alone().apply(loaded)
            : loaded.run(first.signature(), batch.inputs());
        done.complete(new BatchDone(batch, outputs, null, null, System.nanoTime() - t0));
      } catch (InferenceException e) {
        done.complete(new BatchDone(batch, null, e.code(), e.getMessage(), System.nanoTime() - t0));
      } catch (RuntimeException e) {
        done.complete(new BatchDone(batch, null, ErrorCode.INTERNAL, rootMessage(e), System.nanoTime() - t0));
      }
    });
    ctx.pipeToSelf(done, (d, e) -> d != null ? d
        : new BatchDone(batch, null, ErrorCode.INTERNAL, rootMessage(e), 0));
  }

  private Behavior<Command> onBatchDone(BatchDone d) {
    running--;
    if (d.computeNanos() > 0) {
      metrics.computeMicros.recordValue(d.computeNanos() / 1000);
    }
    List<Batcher.Outcome<Handle>> outcomes = d.outputs() != null
        ? batcher.complete(d.batch(), d.outputs(), d.computeNanos())
        : batcher.fail(d.batch(), d.error());
    for (Batcher.Outcome<Handle> o : outcomes) {
      finish(o, d.code());
    }
    dispatch();
    return stopWhenIdle();
  }

  /** Answers one request, once, and gives back its reference on the version. */
  private void finish(Batcher.Outcome<Handle> o, ErrorCode code) {
    Handle h = o.handle();
    if (o instanceof Batcher.Done<Handle> ok) {
      h.replyTo().tell(new InferResult(h.model().version(), ok.outputs()));
    } else {
      Batcher.Failed<Handle> f = (Batcher.Failed<Handle>) o;
      if (!f.expired() && code != ErrorCode.DEADLINE_EXCEEDED) {
        metrics.reject(BatchMetrics.Reject.FAILED);
      }
      h.replyTo().tell(new Failure(f.expired() ? ErrorCode.DEADLINE_EXCEEDED : code == null ? ErrorCode.INTERNAL
          : code, f.expired() ? "deadline exceeded while queued for " + model : f.reason()));
    }
    h.model().release();
  }

  private Behavior<Command> onMetadata(GetMetadata m) {
    Object r = resolve(m.version());
    if (r == WAIT) {
      return waitFor(m, m.replyTo());
    }
    if (r instanceof Failure f) {
      m.replyTo().tell(f);
    } else {
      Slot s = (Slot) r;
      m.replyTo().tell(new ModelMetadata(s.version, s.model.signatures()));
    }
    return Behaviors.same();
  }

  /** TF Serving's status: every version for Latest, one for a version or a label. */
  private Behavior<Command> onStatus(GetStatus m) {
    if (desired == null || lastScan == null) {
      return waitFor(m, m.replyTo());
    }
    VersionSelector sel = m.version();
    if (spec == null && slots.isEmpty()) {
      m.replyTo().tell(new Failure(ErrorCode.MODEL_NOT_FOUND, "Servable not found for request: "
          + sel.describe(model)));
      return Behaviors.same();
    }
    Long only = null;
    if (sel instanceof VersionSelector.Specific sp) {
      only = sp.version();
    } else if (sel instanceof VersionSelector.Label l) {
      only = spec == null ? null : spec.labels().get(l.label());
      if (only == null) {
        m.replyTo().tell(new Failure(ErrorCode.LABEL_NOT_FOUND, "Unrecognized servable version label: "
            + l.label()));
        return Behaviors.same();
      }
    }
    List<VersionStatus> out = new ArrayList<>();
    for (Slot s : slots.descendingMap().values()) {
      if (only == null || only == s.version) {
        out.add(new VersionStatus(s.version, s.state, s.error == null ? null : ErrorCode.MODEL_LOAD_FAILED,
            s.error));
      }
    }
    if (out.isEmpty() && only == null && spec != null) {
      m.replyTo().tell(new ModelStatus(out, lastScan.onDisk())); // served, nothing loaded yet
    } else if (out.isEmpty()) {
      m.replyTo().tell(new Failure(only != null ? ErrorCode.VERSION_NOT_FOUND : ErrorCode.MODEL_NOT_FOUND,
          only != null ? "Could not find version " + only + " of model " + model
              : "Could not find any versions of model " + model));
    } else {
      m.replyTo().tell(new ModelStatus(out, lastScan.onDisk()));
    }
    return Behaviors.same();
  }

  // ---- helpers ----

  private static boolean expired(Command m) {
    long deadline = m instanceof Infer i ? i.deadlineEpochMillis()
        : m instanceof InferExamples e ? e.deadlineEpochMillis() : Long.MAX_VALUE;
    return deadline <= System.currentTimeMillis();
  }

  private static long deadlineNanos(long deadlineEpochMillis) {
    // Rebased to this JVM's monotonic clock on arrival (nanoTime origins differ between JVMs).
    long remainingMillis = deadlineEpochMillis - System.currentTimeMillis();
    return System.nanoTime() + remainingMillis * 1_000_000L;
  }

  /** Closes every version (each after its runs in flight), and a load whose result will never be handled. */
  private Behavior<Command> release() {
    for (Handle h : batcher.clear()) {
      h.replyTo().tell(new Failure(ErrorCode.UNAVAILABLE, "replica " + replica + " of " + model
          + " stopped before it could run the request"));
      h.model().release();
    }
    for (Slot s : slots.values()) {
      if (s.model != null) {
        ctx.getLog().info("closing {} version {}", model, s.version);
        s.model.close();
        s.model = null;
      }
    }
    slots.clear();
    if (pendingLoad != null) {
      pendingLoad.thenAccept(LoadedModel::close);
      pendingLoad = null;
    }
    return Behaviors.same();
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c && !(c instanceof InferenceException)) {
      c = c.getCause();
    }
    return String.valueOf(c.getMessage());
  }
}
