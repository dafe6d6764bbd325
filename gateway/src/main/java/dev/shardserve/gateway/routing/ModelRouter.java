package dev.shardserve.gateway.routing;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.ddata.LWWRegister;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.Entity;
import akka.cluster.sharding.typed.javadsl.EntityRef;
import dev.shardserve.concurrent.PlainFutures;
import dev.shardserve.concurrent.Ticker;
import dev.shardserve.dataplane.InferCall;
import dev.shardserve.dataplane.ReplicaHandle;
import dev.shardserve.dataplane.ReplicaHandles;
import dev.shardserve.ddata.ReplicatedView;
import dev.shardserve.desired.DesiredState;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol;
import dev.shardserve.protocol.ModelProtocol.Command;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.Infer;
import dev.shardserve.protocol.ModelProtocol.InferExamples;
import dev.shardserve.protocol.ModelProtocol.InferReply;
import dev.shardserve.protocol.ModelProtocol.InferResult;
import dev.shardserve.protocol.ModelProtocol.GetMetadata;
import dev.shardserve.protocol.ModelProtocol.ModelMetadata;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.VersionSelector;
import dev.shardserve.gateway.channel.Channel;
import dev.shardserve.gateway.channel.NodeChannels;
import dev.shardserve.metrics.RefusalReason;
import dev.shardserve.metrics.RetryReason;
import dev.shardserve.metrics.ShardServeMetrics;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import dev.shardserve.sharding.EntityIds;
import dev.shardserve.sharding.ReplicaShardExtractor;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Sends requests to a model's replicas: the replica with the fewest requests outstanding,
 * avoiding those that recently failed or sit on going nodes ({@link ReplicaChooser}), with
 * bounded retries on another replica within the request's deadline. A replica hosted in this JVM
 * is reached through its {@link ReplicaHandle} (no actor, no ask); any other through the sharding
 * region (a proxy on gateway-only nodes). Only models in the {@link RoutingSnapshot} are routed:
 * an unknown name never creates an entity.
 */
public final class ModelRouter {
  private static final long MIN_RETRY_NANOS = 5_000_000L;

  /** Routing settings ({@code shardserve.gateway.routing}). */
  public record Settings(Duration attemptTimeout, int maxAttempts, Duration avoidFor, Duration unavailableWait) {
    public Settings {
      if (attemptTimeout.isNegative() || attemptTimeout.isZero() || maxAttempts < 1 || avoidFor.isNegative()
          || unavailableWait.isNegative()) {
        throw new IllegalArgumentException("shardserve.gateway.routing: need attempt-timeout > 0, max-attempts >= 1, "
            + "avoid-for >= 0, unavailable-wait >= 0; was " + attemptTimeout + ", " + maxAttempts + ", " + avoidFor
            + ", " + unavailableWait);
      }
    }

    public static Settings fromConfig(com.typesafe.config.Config c) {
      return new Settings(c.getDuration("attempt-timeout"), c.getInt("max-attempts"), c.getDuration("avoid-for"),
          c.getDuration("unavailable-wait"));
    }
  }

  /** The first pause before another round of attempts when every replica tried was unavailable; doubles. */
  static final long FIRST_PAUSE_NANOS = 50_000_000L;
  /** The longest such pause. */
  static final long MAX_PAUSE_NANOS = 500_000_000L;
  /** The least time a request's deadline must leave after a pause for another round to be worth it. */
  static final long MIN_ROUND_NANOS = 100_000_000L;

  /**
   * The replica a request goes to first, and its handle when it is hosted in this JVM (else null),
   * with what is known of its input dtypes.
   */
  public final class Target {
    private final String model;
    private final int replica;
    private final ReplicaHandle handle;

    Target(String model, int replica, ReplicaHandle handle) {
      this.model = model;
      this.replica = replica;
      this.handle = handle;
    }

    public int replica() {
      return replica;
    }

    /** The replica's handle when it runs in this JVM, else null. */
    public ReplicaHandle handle() {
      return handle;
    }

    /** The input dtypes of {@code signature}, from the local replica or the model's metadata; null when unknown. */
    public Map<String, DType> inputTypes(String signature) {
      return handle != null ? handle.inputTypes(signature) : hints.inputTypes(model, signature);
    }
  }

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final ModelCatalogView catalog;
  private final ReplicatedView<LWWRegister<DesiredState>> desired;
  private final RoutingTable table;
  private final ReplicaHandles handles;
  private final NodeChannels channels;
  private final SignatureHints hints;
  private final ConcurrentHashMap<String, LatencyEstimate> latency = new ConcurrentHashMap<>();
  private final Settings settings;
  private final Ticker ticker = Ticker.SYSTEM;
  private final ReplicaChooser chooser;
  private final LongAdder retries = new LongAdder();
  private final LongAdder retriesExhausted = new LongAdder();

  private ModelRouter(ActorSystem<?> system, Settings settings) {
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.catalog = ModelCatalogView.start(system);
    this.desired = ReplicatedView.start(system, DesiredState.KEY, null, "desired-state-view");
    this.table = RoutingTable.start(system);
    this.handles = ReplicaHandles.get(system);
    this.channels = NodeChannels.start(system, ShardServeMetrics.get(system));
    this.settings = settings;
    this.hints = new SignatureHints(ticker, Duration.ofSeconds(60).toNanos(), this::fetchMetadata);
    this.chooser = new ReplicaChooser(ticker::nanos, settings.avoidFor().toNanos());
  }

  /**
   * Initialises the region for the model entity type: on a node with the worker role the region
   * must already exist (started by the worker), anywhere else this starts a proxy.
   */
  public static ModelRouter start(ActorSystem<?> system) {
    String role = system.settings().config().getString("shardserve.sharding.worker-role");
    ClusterSharding.get(system).init(Entity.of(ModelProtocol.ENTITY_TYPE_KEY, ctx -> Behaviors.<Command>stopped())
        .withRole(role)
        .withMessageExtractor(new ReplicaShardExtractor()));
    return new ModelRouter(system, Settings.fromConfig(system.settings().config().getConfig("shardserve.gateway.routing")));
  }

  public ActorSystem<?> system() {
    return system;
  }

  public ModelCatalogView catalog() {
    return catalog;
  }

  /** What the request path routes by (one volatile read). */
  public RoutingSnapshot snapshot() {
    return table.snapshot();
  }

  /** The desired state as this node last heard it. */
  public DesiredState desired() {
    LWWRegister<DesiredState> r = desired.get();
    return r == null ? DesiredState.INITIAL : r.getValue();
  }

  /** How many replicas serve {@code model} now (1 when it is not routable). */
  public int replicas(String model) {
    RoutingSnapshot.Route r = table.snapshot().route(model);
    return r == null ? 1 : r.replicas();
  }

  /**
   * Null when {@code model} can be routed, else why not: {@code MODEL_NOT_READY} (retriable) while
   * the cluster has no worker node, or while this gateway has not heard from any worker yet (its
   * model catalog holds no live worker's entry: a gateway that just started cannot tell an
   * unknown model from one it has not heard of); {@code MODEL_NOT_FOUND} (with {@code notFound})
   * when no worker has it.
   */
  public Failure unroutable(RoutingSnapshot snapshot, String model, String notFound) {
    if (snapshot.route(model) != null) {
      return null;
    }
    if (!snapshot.workersJoined()) {
      return new Failure(ErrorCode.MODEL_NOT_READY, "no worker node has joined the cluster yet to serve " + model);
    }
    if (!snapshot.catalogHeard()) {
      return new Failure(ErrorCode.MODEL_NOT_READY, "this gateway has not heard from any worker node yet (its model "
          + "catalog is empty), so it cannot route " + model + " yet; retry shortly");
    }
    return new Failure(ErrorCode.MODEL_NOT_FOUND, notFound);
  }

  /** Chooses the replica a request goes to first (the one with the fewest outstanding, not avoided). */
  public Target target(RoutingSnapshot.Route route) {
    int r = chooser.choose(route.model(), route.replicas(), Set.of(), route.avoid());
    return new Target(route.model(), r, handles.find(route.model(), r));
  }

  /** The channels to the worker nodes (requests per frame, for the operators and the benchmarks). */
  public NodeChannels channels() {
    return channels;
  }

  private void fetchMetadata(String model, java.util.function.Consumer<ModelMetadata> got) {
    this.<dev.shardserve.protocol.ModelProtocol.MetadataReply>ask(model,
        replyTo -> new GetMetadata(model, VersionSelector.latest(), replyTo), Duration.ofSeconds(10), f -> f)
        .whenComplete((reply, error) -> {
          if (reply instanceof ModelMetadata md) {
            got.accept(md);
          } else {
            hints.failed(model);
          }
        });
  }

  /**
   * Runs {@code call} on {@code first}, then, when a replica fails retriably (unavailable, not
   * ready, overloaded) or a remote one does not answer within the attempt timeout, on another
   * one, while the request's deadline leaves time and the route allows retries (inference is
   * idempotent; a stateful model, or one whose settings are not known yet, is never retried).
   * A replica that its (live) node answered unavailable for through the channel is tried
   * again through sharding, which follows a handoff to the replica's next node. When the
   * attempts are used up and the last found its replica UNAVAILABLE (replicas moving: a rolling
   * restart, a drain), the request waits and tries again, with pauses from 50 ms doubling to
   * 500 ms, for at most {@code unavailable-wait} within its deadline, instead of failing while a
   * replica loads.
   * {@code answer} turns the final reply into the result, on the thread that delivered it (for a
   * local replica, the runtime thread that ran the batch).
   */
  public <R> CompletableFuture<R> infer(RoutingSnapshot.Route route, Target first, InferCall call,
      Function<InferReply, R> answer) {
    CompletableFuture<R> out = new CompletableFuture<>();
    new Attempts<>(route, call, answer, out).send(first, 1);
    return out;
  }

  /** The attempts of one request. */
  private final class Attempts<R> {
    RoutingSnapshot.Route route;
    final InferCall call;
    final Function<InferReply, R> answer;
    final CompletableFuture<R> out;
    Set<Integer> tried;
    /** Replicas their node's channel answered unavailable for: tried again through sharding. */
    Set<Integer> viaSharding;
    /** When the first round of attempts ended with every replica unavailable (0: not yet); the next pause. */
    long waitingSince;
    long pauseNanos = FIRST_PAUSE_NANOS;
    /** Attempts made in the rounds before this one. */
    int attempts;

    Attempts(RoutingSnapshot.Route route, InferCall call, Function<InferReply, R> answer, CompletableFuture<R> out) {
      this.route = route;
      this.call = call;
      this.answer = answer;
      this.out = out;
    }

    void send(Target target, int attempt) {
      String model = route.model();
      int replica = target.replica();
      chooser.started(model, replica);
      long sentNanos = ticker.nanos();
      if (target.handle() != null) {
        target.handle().submit(call, reply -> replied(replica, attempt, reply, sentNanos, false));
        return;
      }
      long remaining = call.deadlineNanos() - sentNanos;
      String host = route.host(replica);
      boolean sharded = viaSharding != null && viaSharding.contains(replica);
      Channel channel = host == null || sharded ? null : channels.get(host);
      if (channel != null && channel.submit(replica, call, remaining / 1000,
          reply -> replied(replica, attempt, reply, sentNanos, channel.live()))) {
        return; // the channel answers it: a node that leaves or goes unreachable gives it back for a retry
      }
      // No channel (the node is not known to host it yet, or runs a release without channels): through
      // sharding, each attempt bounded by the model's observed latency as well as the deadline.
      long attemptNanos = route.retry() ? Math.min(remaining, attemptTimeoutNanos(model)) : remaining;
      remote(model, replica, Duration.ofNanos(Math.max(attemptNanos, 1_000_000))).whenComplete((reply, error) ->
          replied(replica, attempt, reply != null ? reply : error != null
              ? new Failure(ErrorCode.UNAVAILABLE, "replica " + replica + " of " + model + " could not be reached: "
                  + (error.getCause() != null ? error.getCause() : error))
              : new Failure(ErrorCode.DEADLINE_EXCEEDED, "Deadline exceeded: no answer from " + model + " replica "
                  + replica + " within " + Math.max(attemptNanos, 1_000_000) / 1_000_000 + " ms"), sentNanos, false));
    }

    /** {@code fromLiveNode}: the answer came through the channel of a node that is reachable and has not left. */
    private void replied(int replica, int attempt, InferReply reply, long sentNanos, boolean fromLiveNode) {
      String model = route.model();
      chooser.finished(model, replica);
      if (reply instanceof InferResult) {
        latency.computeIfAbsent(model, m -> new LatencyEstimate()).sample(ticker.nanos() - sentNanos);
      }
      boolean timedOut = reply instanceof Failure f && f.code() == ErrorCode.DEADLINE_EXCEEDED;
      // A replica beyond the count the settings want that says "not found" disagrees about the count
      // (a node of the previous release answers so while it gives the replica up): another replica serves.
      boolean surplus = reply instanceof Failure f && f.code() == ErrorCode.MODEL_NOT_FOUND && replica >= route.wanted();
      boolean retriable = reply instanceof Failure f && (f.code().retriable() || timedOut || surplus);
      if (!retriable) {
        chooser.succeeded(model, replica);
        complete(reply);
        return;
      }
      chooser.failed(model, replica);
      boolean unavailable = reply instanceof Failure f && f.code() == ErrorCode.UNAVAILABLE;
      if (fromLiveNode && unavailable) {
        // Its node lives but no longer serves it (stopping, moving): sharding knows where it goes
        // next. (Not a node that is unreachable or gone: sharding would wait for it in vain.)
        if (viaSharding == null) {
          viaSharding = new HashSet<>();
        }
        viaSharding.add(replica);
      }
      long left = call.deadlineNanos() - ticker.nanos();
      if (route.retry() && attempt < settings.maxAttempts() && left > MIN_RETRY_NANOS) {
        retries.increment();
        Failure f = (Failure) reply;
        route.metrics().retried(timedOut ? RetryReason.TIMEOUT
            : f.code() == ErrorCode.OVERLOADED ? RetryReason.OVERLOADED : RetryReason.UNAVAILABLE);
        if (tried == null) {
          tried = new HashSet<>();
        }
        tried.add(replica);
        // A replica beyond the wanted count that refused is being given up: retry within the count.
        int among = replica >= route.wanted() ? route.wanted() : route.replicas();
        int next = chooser.choose(model, among, tried, route.avoid());
        send(new Target(model, next, handles.find(model, next)), attempt + 1);
      } else if (route.retry() && unavailable && waitAndRetry(left)) {
        return;
      } else {
        if (attempts + attempt > 1) {
          retriesExhausted.increment();
        }
        if (reply instanceof Failure f
            && (f.code() == ErrorCode.UNAVAILABLE || f.code() == ErrorCode.MODEL_NOT_READY)) {
          route.metrics().refused(RefusalReason.UNAVAILABLE);
        }
        int all = attempts + attempt;
        complete(reply instanceof Failure f && all > 1
            ? new Failure(f.code(), f.message() + " (" + all + " attempts)") : reply);
      }
    }

    /**
     * Every attempt of this round found the model unavailable: pauses, then starts a new round
     * on the current routing snapshot, while {@code unavailable-wait} and the deadline allow.
     */
    private boolean waitAndRetry(long left) {
      long now = ticker.nanos();
      if (waitingSince == 0) {
        waitingSince = now;
      }
      long pause = pauseNanos;
      if (left - pause < MIN_ROUND_NANOS || now + pause - waitingSince > settings.unavailableWait().toNanos()) {
        return false;
      }
      pauseNanos = Math.min(MAX_PAUSE_NANOS, pauseNanos * 2);
      attempts += settings.maxAttempts();
      Runnable nextRound = () -> {
        try {
          RoutingSnapshot.Route current = table.snapshot().route(route.model());
          if (current != null) {
            route = current; // hosts and counts as they are now
          }
          tried = null;
          retries.increment();
          route.metrics().retried(RetryReason.UNAVAILABLE);
          int first = chooser.choose(route.model(), route.replicas(), Set.of(), route.avoid());
          send(new Target(route.model(), first, handles.find(route.model(), first)), 1);
        } catch (RuntimeException e) {
          complete(new Failure(ErrorCode.UNAVAILABLE, route.model() + " could not be retried: " + e));
        }
      };
      try {
        system.scheduler().scheduleOnce(Duration.ofNanos(pause), nextRound, system.executionContext());
      } catch (RuntimeException e) {
        return false; // the scheduler has shut down: answer now
      }
      return true;
    }

    private void complete(InferReply reply) {
      try {
        out.complete(answer.apply(reply));
      } catch (RuntimeException e) {
        out.completeExceptionally(e);
      }
    }

    private CompletionStage<InferReply> remote(String model, int replica, Duration timeout) {
      // The node gets this attempt's deadline, not the request's: work still queued there when the
      // attempt has timed out (and may be retried elsewhere) is dropped, not computed once more.
      long deadlineEpochMillis = System.currentTimeMillis()
          + Math.min(call.deadlineNanos() - ticker.nanos(), timeout.toNanos()) / 1_000_000L;
      Function<ActorRef<InferReply>, Command> command = call instanceof InferCall.Predict p
          ? replyTo -> new Infer(model, p.version(), p.signatureName(), p.inputs(), deadlineEpochMillis, replyTo)
          : replyTo -> {
            InferCall.Examples e = (InferCall.Examples) call;
            return new InferExamples(model, e.version(), e.signatureName(), e.method(), e.examples(), e.context(),
                deadlineEpochMillis, replyTo);
          };
      return raw(model, replica, command, timeout);
    }
  }

  /**
   * Asks a replica of {@code model} a control query (status, metadata) through sharding, with the
   * same choice and retries as requests; completes with the reply or a {@code DEADLINE_EXCEEDED}
   * failure from {@code onFailure}.
   */
  public <R> CompletionStage<R> ask(String model, Function<ActorRef<R>, Command> command, Duration timeout,
      Function<Failure, R> onFailure) {
    RoutingSnapshot.Route route = table.snapshot().route(model);
    int count = route == null ? 1 : route.replicas();
    int wanted = route == null ? 1 : route.wanted();
    Set<Integer> avoid = route == null ? Set.of() : route.avoid();
    CompletableFuture<R> out = new CompletableFuture<>();
    askAttempt(model, count, wanted, avoid, command, ticker.nanos() + timeout.toNanos(), timeout, onFailure,
        new HashSet<>(), 1, out);
    return out;
  }

  private <R> void askAttempt(String model, int count, int wanted, Set<Integer> avoid,
      Function<ActorRef<R>, Command> command, long deadline, Duration timeout, Function<Failure, R> onFailure,
      Set<Integer> tried, int attempt, CompletableFuture<R> out) {
    int replica = chooser.choose(model, count, tried, avoid);
    long remaining = deadline - ticker.nanos();
    long attemptNanos = Math.min(remaining, settings.attemptTimeout().toNanos());
    raw(model, replica, command, Duration.ofNanos(Math.max(attemptNanos, 1_000_000))).whenComplete((reply, e) -> {
      boolean retriable = reply == null || (reply instanceof Failure f && (f.code().retriable()
          || (f.code() == ErrorCode.MODEL_NOT_FOUND && replica >= wanted))); // a count disagreement, as in infer
      if (retriable && attempt < settings.maxAttempts() && deadline - ticker.nanos() > MIN_RETRY_NANOS) {
        tried.add(replica);
        askAttempt(model, count, wanted, avoid, command, deadline, timeout, onFailure, tried, attempt + 1, out);
      } else {
        out.complete(reply != null ? reply : onFailure.apply(e != null
            ? new Failure(ErrorCode.UNAVAILABLE, model + " could not be reached: "
                + (e.getCause() != null ? e.getCause() : e))
            : new Failure(ErrorCode.DEADLINE_EXCEEDED,
                "Deadline exceeded: no answer from " + model + " within " + timeout.toMillis() + " ms")));
      }
    });
  }

  /** Asks replica {@code replica} of {@code model} once; completes with null when no answer came in time. */
  private <R> CompletionStage<R> raw(String model, int replica, Function<ActorRef<R>, Command> command,
      Duration timeout) {
    EntityRef<Command> ref = sharding.entityRefFor(ModelProtocol.ENTITY_TYPE_KEY, EntityIds.of(model, replica));
    CompletableFuture<R> out = new CompletableFuture<>();
    long asked = ticker.nanos();
    PlainFutures.of(ref.<R>ask(command::apply, timeout)).whenComplete((reply, error) -> {
      if (error == null) {
        out.complete(reply);
      } else if (PlainFutures.timedOut(error, ticker.nanos() - asked - timeout.toNanos())) {
        out.complete(null);
      } else {
        out.completeExceptionally(error);
      }
    });
    return out;
  }

  /** Asks replica {@code replica} of {@code model} once (admin queries), bounded by {@code timeout}. */
  public <R> CompletionStage<R> askReplica(String model, int replica, Function<ActorRef<R>, Command> command,
      Duration timeout, Function<Failure, R> onFailure) {
    return raw(model, replica, command, timeout).handle((reply, error) -> reply != null ? reply
        : onFailure.apply(error != null
            ? new Failure(ErrorCode.UNAVAILABLE, "replica " + replica + " of " + model + " could not be reached: "
                + (error.getCause() != null ? error.getCause() : error))
            : new Failure(ErrorCode.DEADLINE_EXCEEDED, "Deadline exceeded: no answer from " + model
                + " replica " + replica + " within " + timeout.toMillis() + " ms")));
  }

  /**
   * How long one attempt through sharding may take before it counts as lost: the configured
   * attempt timeout, or four times what the model's answers have taken lately when that is more
   * (a slow model is not abandoned and computed again elsewhere because a fixed timeout passed).
   */
  private long attemptTimeoutNanos(String model) {
    LatencyEstimate l = latency.get(model);
    long observed = l == null ? 0 : 4 * l.nanos();
    return Math.max(settings.attemptTimeout().toNanos(), observed);
  }

  /** Requests retried on another replica, and requests that failed after retrying. */
  public long retries() {
    return retries.sum();
  }

  public long retriesExhausted() {
    return retriesExhausted.sum();
  }
}
