package dev.shardserve.node.entity;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.StashBuffer;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import dev.shardserve.node.NodeSettings;
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
import dev.shardserve.protocol.ModelProtocol.StatusReply;
import dev.shardserve.protocol.ModelProtocol.VersionState;
import dev.shardserve.protocol.ModelProtocol.VersionStatus;
import dev.shardserve.protocol.Tensor;
import dev.shardserve.protocol.VersionSelector;
import dev.shardserve.sharding.EntityIds;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.Map;
import java.util.function.Function;

/**
 * One replica of one model ({@code model#replica}): loads the newest version of its model from
 * the repository and answers inference, status and metadata. Phases:
 * {@code loading -> serving}, {@code loading -> failed -> loading} (retried with backoff), and
 * {@code notFound} (the model has no folder or no version; the entity passivates itself so that
 * the next request looks again). TensorFlow runs on the runtime dispatcher and loads on the load
 * dispatcher: the entity never blocks, results come back by {@code pipeToSelf}. Status and
 * metadata are answered from the entity's own state, never behind inference.
 *
 * <p>Supervision restarts the entity with backoff; the loaded model is closed on
 * {@code PostStop} and {@code PreRestart} and loaded again by the fresh instance, so no native
 * memory survives a stop or a restart. A load still running when the entity stops is closed
 * when it completes (its result can no longer reach the entity).
 */
public final class ModelEntity {

  private record Loaded(LoadedModel model) implements Command.Internal {}

  private record LoadFailed(long version, String error) implements Command.Internal {}

  private enum RetryLoad implements Command.Internal {
    INSTANCE
  }

  private record Completed(ActorRef<InferReply> replyTo, InferReply reply) implements Command.Internal {}

  public static final String RUNTIME_DISPATCHER = "shardserve.node.runtime-dispatcher";
  public static final String LOAD_DISPATCHER = "shardserve.node.load-dispatcher";

  private final ActorContext<Command> ctx;
  private final StashBuffer<Command> stash;
  private final TimerScheduler<Command> timers;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final NodeSettings settings;
  private final ModelRepository repository;
  private final String model;
  private final Executor runtime;
  private final Executor loader;
  private Duration nextBackoff;
  private LoadedModel loaded;
  /** The load in progress, until its result has been handled; closed by {@link #release} if never handled. */
  private CompletableFuture<LoadedModel> pendingLoad;

  public static Behavior<Command> create(String entityId, ActorRef<ClusterSharding.ShardCommand> shard,
      NodeSettings settings) {
    return Behaviors.<Command>supervise(Behaviors.setup(ctx -> Behaviors.withStash(settings.maxPendingWhileLoading(),
            stash -> Behaviors.withTimers(timers ->
                new ModelEntity(ctx, stash, timers, shard, settings, EntityIds.model(entityId)).start()))))
        .onFailure(SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
  }

  private ModelEntity(ActorContext<Command> ctx, StashBuffer<Command> stash, TimerScheduler<Command> timers,
      ActorRef<ClusterSharding.ShardCommand> shard, NodeSettings settings, String model) {
    this.ctx = ctx;
    this.stash = stash;
    this.timers = timers;
    this.shard = shard;
    this.settings = settings;
    this.repository = new ModelRepository(settings.modelRepository());
    this.model = model;
    this.runtime = ctx.getSystem().dispatchers().lookup(DispatcherSelector.fromConfig(RUNTIME_DISPATCHER));
    this.loader = ctx.getSystem().dispatchers().lookup(DispatcherSelector.fromConfig(LOAD_DISPATCHER));
    this.nextBackoff = settings.loadRetryMin();
  }

  private Behavior<Command> start() {
    SortedMap<Long, Path> versions = repository.versions(model);
    if (versions.isEmpty()) {
      return notFound();
    }
    long version = versions.lastKey();
    Path dir = versions.get(version);
    ctx.getLog().info("loading {} version {} from {}", model, version, dir);
    pendingLoad = CompletableFuture.supplyAsync(() -> LoadedModel.load(dir, version, settings.session()), loader);
    ctx.pipeToSelf(pendingLoad, (m, error) -> m != null ? new Loaded(m) : new LoadFailed(version, rootMessage(error)));
    return loading(version);
  }

  // ---- phase: loading ----

  private Behavior<Command> loading(long version) {
    return Behaviors.receive(Command.class)
        .onMessage(Loaded.class, m -> {
          pendingLoad = null;
          loaded = m.model();
          nextBackoff = settings.loadRetryMin();
          ctx.getLog().info("{} version {} is AVAILABLE", model, loaded.version());
          return stash.unstashAll(serving());
        })
        .onMessage(LoadFailed.class, m -> {
          pendingLoad = null;
          ctx.getLog().warn("{} version {} failed to load (retry in {}): {}", model, m.version(), nextBackoff,
              m.error());
          timers.startSingleTimer(RetryLoad.INSTANCE, nextBackoff);
          nextBackoff = min(nextBackoff.multipliedBy(2), settings.loadRetryMax());
          return stash.unstashAll(failed(m.version(), m.error()));
        })
        .onMessage(GetStatus.class, m -> {
          m.replyTo().tell(status(m.version(), version, VersionState.LOADING, null, ""));
          return Behaviors.same();
        })
        .onMessage(Command.class, m -> {
          if (stash.isFull()) {
            reject(m, new Failure(ErrorCode.OVERLOADED, model + " is loading and " + stash.size()
                + " requests already wait for it"));
          } else {
            stash.stash(m);
          }
          return Behaviors.same();
        })
        .onSignal(akka.actor.typed.PostStop.class, s -> release())
        .onSignal(akka.actor.typed.PreRestart.class, s -> release())
        .build();
  }

  // ---- phase: serving ----

  private Behavior<Command> serving() {
    return Behaviors.receive(Command.class)
        .onMessage(Infer.class, this::onInfer)
        .onMessage(InferExamples.class, this::onInferExamples)
        .onMessage(Completed.class, m -> {
          m.replyTo().tell(m.reply());
          return Behaviors.same();
        })
        .onMessage(GetStatus.class, m -> {
          m.replyTo().tell(status(m.version(), loaded.version(), VersionState.AVAILABLE, null, ""));
          return Behaviors.same();
        })
        .onMessage(GetMetadata.class, m -> {
          Failure f = checkVersion(m.version(), loaded.version());
          m.replyTo().tell(f != null ? f : new ModelMetadata(loaded.version(), loaded.signatures()));
          return Behaviors.same();
        })
        .onSignal(akka.actor.typed.PostStop.class, s -> release())
        .onSignal(akka.actor.typed.PreRestart.class, s -> release())
        .build();
  }

  private Behavior<Command> onInfer(Infer m) {
    return run(m.version(), m.deadlineEpochMillis(), m.replyTo(), model -> model.run(m.signatureName(), m.inputs()));
  }

  private Behavior<Command> onInferExamples(InferExamples m) {
    return run(m.version(), m.deadlineEpochMillis(), m.replyTo(),
        model -> model.runExamples(m.signatureName(), m.method(), m.examples(), m.context()));
  }

  /**
   * Checks version and deadline, then runs {@code work} on the runtime dispatcher and answers by
   * {@code pipeToSelf}; a request whose deadline passed while it waited for a thread is not run.
   */
  private Behavior<Command> run(VersionSelector selector, long deadlineEpochMillis, ActorRef<InferReply> replyTo,
      Function<LoadedModel, Map<String, Tensor>> work) {
    Failure refused = admit(selector, deadlineEpochMillis);
    if (refused != null) {
      replyTo.tell(refused);
      return Behaviors.same();
    }
    LoadedModel model = loaded;
    long deadlineNanos = deadlineNanos(deadlineEpochMillis);
    CompletableFuture<InferReply> result = CompletableFuture.supplyAsync(() -> {
      if (System.nanoTime() - deadlineNanos > 0) {
        return new Failure(ErrorCode.DEADLINE_EXCEEDED, "deadline exceeded before " + this.model + " could run it");
      }
      try {
        return new InferResult(model.version(), work.apply(model));
      } catch (InferenceException e) {
        return new Failure(e.code(), e.getMessage());
      }
    }, runtime);
    ctx.pipeToSelf(result, (reply, error) -> new Completed(replyTo,
        reply != null ? reply : new Failure(ErrorCode.INTERNAL, rootMessage(error))));
    return Behaviors.same();
  }

  private Failure admit(VersionSelector selector, long deadlineEpochMillis) {
    if (deadlineEpochMillis <= System.currentTimeMillis()) {
      return new Failure(ErrorCode.DEADLINE_EXCEEDED, "deadline exceeded before " + model + " received it");
    }
    return checkVersion(selector, loaded.version());
  }

  private static long deadlineNanos(long deadlineEpochMillis) {
    // Rebased to this JVM's monotonic clock on arrival (nanoTime origins differ between JVMs).
    long remainingMillis = deadlineEpochMillis - System.currentTimeMillis();
    return System.nanoTime() + remainingMillis * 1_000_000L;
  }

  // ---- phase: failed ----

  private Behavior<Command> failed(long version, String error) {
    return Behaviors.receive(Command.class)
        .onMessageEquals(RetryLoad.INSTANCE, this::start)
        .onMessage(GetStatus.class, m -> {
          m.replyTo().tell(status(m.version(), version, VersionState.END, ErrorCode.MODEL_LOAD_FAILED, error));
          return Behaviors.same();
        })
        .onMessage(Command.class, m -> {
          reject(m, new Failure(ErrorCode.MODEL_LOAD_FAILED, model + " version " + version
              + " failed to load: " + error));
          return Behaviors.same();
        })
        .build();
  }

  // ---- phase: not found ----

  private Behavior<Command> notFound() {
    shard.tell(new ClusterSharding.Passivate<>(ctx.getSelf()));
    return Behaviors.receive(Command.class)
        .onMessage(Command.class, m -> {
          String request = "Latest(" + model + ")";
          if (m instanceof Infer i) {
            request = i.version().describe(model);
          } else if (m instanceof InferExamples i) {
            request = i.version().describe(model);
          } else if (m instanceof GetMetadata g) {
            request = g.version().describe(model);
          }
          reject(m, new Failure(ErrorCode.MODEL_NOT_FOUND, "Servable not found for request: " + request));
          return Behaviors.same();
        })
        .build();
  }

  // ---- helpers ----

  private Failure checkVersion(VersionSelector selector, long loadedVersion) {
    if (selector instanceof VersionSelector.Specific s && s.version() != loadedVersion) {
      return new Failure(ErrorCode.VERSION_NOT_FOUND, "Servable not found for request: " + s.describe(model));
    }
    if (selector instanceof VersionSelector.Label l) {
      return new Failure(ErrorCode.LABEL_NOT_FOUND, "Unrecognized servable version label: " + l.label());
    }
    return null;
  }

  /** TF Serving's status answer: every version for Latest, one for Specific (or NOT_FOUND). */
  private StatusReply status(VersionSelector selector, long version, VersionState state, ErrorCode code,
      String error) {
    if (selector instanceof VersionSelector.Specific s && s.version() != version) {
      return new Failure(ErrorCode.VERSION_NOT_FOUND, "Could not find version " + s.version() + " of model " + model);
    }
    if (selector instanceof VersionSelector.Label l) {
      return new Failure(ErrorCode.LABEL_NOT_FOUND, "Unrecognized servable version label: " + l.label());
    }
    return new ModelStatus(List.of(new VersionStatus(version, state, code, error)));
  }

  private static void reject(Command m, Failure f) {
    if (m instanceof Infer i) {
      i.replyTo().tell(f);
    } else if (m instanceof InferExamples i) {
      i.replyTo().tell(f);
    } else if (m instanceof GetStatus g) {
      g.replyTo().tell(f);
    } else if (m instanceof GetMetadata g) {
      g.replyTo().tell(f);
    }
  }

  /** Closes the loaded model, and a load whose result the entity will never handle. */
  private Behavior<Command> release() {
    if (loaded != null) {
      ctx.getLog().info("closing {} version {}", model, loaded.version());
      loaded.close();
      loaded = null;
    }
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
