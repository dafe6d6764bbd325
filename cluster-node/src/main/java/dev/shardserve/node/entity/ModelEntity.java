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
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
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
 * on the runtime dispatcher, results come back by {@code pipeToSelf}; status is answered from
 * this actor's state, never behind inference. A stateful model runs one request at a time. On
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

  private record Completed(ActorRef<InferReply> replyTo, InferReply reply) implements Command.Internal {}

  public static final String RUNTIME_DISPATCHER = "shardserve.node.runtime-dispatcher";
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
  private final Executor runtime;
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
  /** Stateful models: runs in progress (at most one) and the requests queued behind it. */
  private int running;
  private final ArrayDeque<Runnable> serialQueue = new ArrayDeque<>();

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
    this.runtime = ctx.getSystem().dispatchers().lookup(DispatcherSelector.fromConfig(RUNTIME_DISPATCHER));
    this.loader = ctx.getSystem().dispatchers().lookup(DispatcherSelector.fromConfig(LOAD_DISPATCHER));
    this.blocking = ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
    this.nextBackoff = settings.loadRetryMin();
  }

  private Behavior<Command> start(TimerScheduler<Command> timers,
      ReplicatorMessageAdapter<Command, LWWRegister<DesiredState>> replicator) {
    replicator.subscribe(DesiredState.KEY, StateChanged::new);
    replicator.askGet(replyTo -> new Replicator.Get<>(DesiredState.KEY, Replicator.readLocal(), replyTo),
        GotState::new);
    timers.startTimerWithFixedDelay(Poll.INSTANCE, settings.pollInterval());
    behavior = Behaviors.receive(Command.class)
        .onMessage(Infer.class, m -> request(m, m.version(), m.replyTo(), slot -> runInfer(m, slot)))
        .onMessage(InferExamples.class, m -> request(m, m.version(), m.replyTo(), slot -> runExamples(m, slot)))
        .onMessage(GetMetadata.class, this::onMetadata)
        .onMessage(GetStatus.class, this::onStatus)
        .onMessage(Completed.class, this::onCompleted)
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
    if (spec != null && replica >= spec.replicas()) {
      spec = null;
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

  private Behavior<Command> request(Command m, VersionSelector selector, ActorRef<InferReply> replyTo,
      Function<Slot, Behavior<Command>> serve) {
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
    return run(slot, m.deadlineEpochMillis(), m.replyTo(), loaded -> loaded.run(m.signatureName(), m.inputs()));
  }

  private Behavior<Command> runExamples(InferExamples m, Slot slot) {
    return run(slot, m.deadlineEpochMillis(), m.replyTo(),
        loaded -> loaded.runExamples(m.signatureName(), m.method(), m.examples(), m.context()));
  }

  /**
   * Runs {@code work} on the runtime dispatcher with a reference on the version, so that a
   * version retired meanwhile is closed only after this run; answers by {@code pipeToSelf}. A
   * request whose deadline passed while it waited for a thread is not run.
   */
  private Behavior<Command> run(Slot slot, long deadlineEpochMillis, ActorRef<InferReply> replyTo,
      Function<LoadedModel, Map<String, Tensor>> work) {
    LoadedModel loaded = slot.model;
    if (!loaded.acquire()) {
      replyTo.tell(new Failure(ErrorCode.UNAVAILABLE, model + " version " + slot.version + " was just unloaded"));
      return Behaviors.same();
    }
    long deadlineNanos = deadlineNanos(deadlineEpochMillis);
    Runnable start = () -> {
      running++;
      CompletableFuture<InferReply> result = CompletableFuture.supplyAsync(() -> {
        try {
          if (System.nanoTime() - deadlineNanos > 0) {
            return new Failure(ErrorCode.DEADLINE_EXCEEDED, "deadline exceeded before " + model + " could run it");
          }
          return new InferResult(loaded.version(), work.apply(loaded));
        } catch (InferenceException e) {
          return new Failure(e.code(), e.getMessage());
        } finally {
          loaded.release();
        }
      }, runtime);
      ctx.pipeToSelf(result, (reply, error) -> new Completed(replyTo,
          reply != null ? reply : new Failure(ErrorCode.INTERNAL, rootMessage(error))));
    };
    if (spec != null && spec.stateful() && running > 0) {
      if (serialQueue.size() >= settings.maxPendingWhileLoading()) {
        loaded.release();
        replyTo.tell(new Failure(ErrorCode.OVERLOADED, model + " is stateful and runs one request at a time; "
            + serialQueue.size() + " already wait"));
      } else {
        serialQueue.add(start);
      }
    } else {
      start.run();
    }
    return Behaviors.same();
  }

  private Behavior<Command> onCompleted(Completed m) {
    running--;
    m.replyTo().tell(m.reply());
    Runnable next = serialQueue.poll();
    if (next != null) {
      next.run();
    }
    return Behaviors.same();
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
