package dev.shardserve.gateway.routing;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.Entity;
import akka.cluster.sharding.typed.javadsl.EntityRef;
import akka.actor.typed.javadsl.Behaviors;
import dev.shardserve.concurrent.PlainFutures;
import akka.cluster.ddata.LWWRegister;
import dev.shardserve.desired.DesiredState;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.ddata.ReplicatedView;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol;
import dev.shardserve.protocol.ModelProtocol.Command;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.sharding.EntityIds;
import dev.shardserve.sharding.Workers;
import dev.shardserve.sharding.ReplicaShardExtractor;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * Sends commands to a model's replicas through the sharding region (a proxy on gateway-only
 * nodes): the replica with the fewest requests outstanding, avoiding those that recently
 * failed, with bounded retries on another replica within the request's deadline (see
 * {@link #ask}). Only models in the {@link ModelCatalogView} are routed: an unknown name never
 * creates an entity. No answer in time becomes a {@code DEADLINE_EXCEEDED} failure value.
 */
public final class ModelRouter {
  private final ClusterSharding sharding;
  private ActorSystem<?> system;
  private final ModelCatalogView catalog;
  private final ReplicatedView<LWWRegister<DesiredState>> desired;
  private final String workerRole;
  private static final long MIN_RETRY_NANOS = 5_000_000L;

  /** Routing settings ({@code shardserve.gateway.routing}). */
  public record Settings(Duration attemptTimeout, int maxAttempts, Duration avoidFor) {
    public Settings {
      if (attemptTimeout.isNegative() || attemptTimeout.isZero() || maxAttempts < 1 || avoidFor.isNegative()) {
        throw new IllegalArgumentException("shardserve.gateway.routing: need attempt-timeout > 0, max-attempts >= 1, "
            + "avoid-for >= 0; was " + attemptTimeout + ", " + maxAttempts + ", " + avoidFor);
      }
    }

    public static Settings fromConfig(com.typesafe.config.Config c) {
      return new Settings(c.getDuration("attempt-timeout"), c.getInt("max-attempts"), c.getDuration("avoid-for"));
    }
  }

  private final Settings settings;
  private final ReplicaChooser chooser;
  private final LongAdder retries = new LongAdder();
  private final LongAdder retriesExhausted = new LongAdder();

  private ModelRouter(ClusterSharding sharding, ModelCatalogView catalog,
      ReplicatedView<LWWRegister<DesiredState>> desired, String workerRole, Settings settings) {
    this.sharding = sharding;
    this.catalog = catalog;
    this.desired = desired;
    this.workerRole = workerRole;
    this.settings = settings;
    this.chooser = new ReplicaChooser(System::nanoTime, settings.avoidFor().toNanos());
  }

  /**
   * Initialises the region for the model entity type: on a node with the worker role the region
   * must already exist (started by the worker), anywhere else this starts a proxy.
   */
  public static ModelRouter start(ActorSystem<?> system) {
    String role = system.settings().config().getString("shardserve.sharding.worker-role");
    ClusterSharding sharding = ClusterSharding.get(system);
    sharding.init(Entity.of(ModelProtocol.ENTITY_TYPE_KEY, ctx -> Behaviors.<Command>stopped())
        .withRole(role)
        .withMessageExtractor(new ReplicaShardExtractor()));
    ModelRouter router = new ModelRouter(sharding, ModelCatalogView.start(system),
        ReplicatedView.start(system, DesiredState.KEY, null, "desired-state-view"), role,
        Settings.fromConfig(system.settings().config().getConfig("shardserve.gateway.routing")));
    router.system = system;
    return router;
  }

  public ActorSystem<?> system() {
    return system;
  }

  public ModelCatalogView catalog() {
    return catalog;
  }

  /** The desired state as this node last heard it. */
  public DesiredState desired() {
    LWWRegister<DesiredState> r = desired.get();
    return r == null ? DesiredState.INITIAL : r.getValue();
  }

  /** How many replicas serve {@code model}: its spec's count, or automatic (2 with two or more workers, else 1). */
  public int replicas(String model) {
    ModelSpec spec = desired().models().get(model);
    return (spec == null ? ModelSpec.DEFAULT : spec).replicasFor(Workers.up(system));
  }

  /**
   * Null when {@code model} can be routed, else why not: {@code MODEL_NOT_READY} while the
   * cluster has no worker node (retriable), {@code MODEL_NOT_FOUND} when no worker has it.
   */
  public Failure unroutable(String model, String request) {
    if (catalog.contains(model)) {
      return null;
    }
    if (!catalog.hasLiveMemberWithRole(workerRole)) {
      return new Failure(ErrorCode.MODEL_NOT_READY, "no worker node has joined the cluster yet to serve " + model);
    }
    return new Failure(ErrorCode.MODEL_NOT_FOUND, request);
  }

  /**
   * Asks a replica of {@code model} (the one with the fewest requests outstanding, avoiding
   * replicas that recently failed) and, when it fails retriably (unavailable, not ready,
   * overloaded) or gives no answer within the attempt timeout, asks another one, as long as the
   * request's deadline leaves time: inference is idempotent. A stateful model is never retried
   * (a retry could apply a change twice). Completes with the reply, or with a {@link Failure}
   * of {@code DEADLINE_EXCEEDED} when no answer came in time.
   */
  public <R> CompletionStage<R> ask(String model, Function<ActorRef<R>, Command> command, Duration timeout,
      Function<Failure, R> onFailure) {
    ModelSpec spec = desired().models().get(model);
    boolean retry = spec == null || !spec.stateful();
    CompletableFuture<R> out = new CompletableFuture<>();
    attempt(model, command, System.nanoTime() + timeout.toNanos(), timeout, onFailure, new HashSet<>(), 1, retry, out);
    return out;
  }

  private <R> void attempt(String model, Function<ActorRef<R>, Command> command, long deadline, Duration timeout,
      Function<Failure, R> onFailure, Set<Integer> tried, int attempt, boolean retry, CompletableFuture<R> out) {
    int count = replicas(model);
    int replica = chooser.choose(model, count, tried, onLeavingNodes(model));
    long remaining = deadline - System.nanoTime();
    long attemptNanos = retry ? Math.min(remaining, settings.attemptTimeout().toNanos()) : remaining;
    chooser.started(model, replica);
    raw(model, replica, command, Duration.ofNanos(Math.max(attemptNanos, 1_000_000))).whenComplete((reply, e) -> {
      chooser.finished(model, replica);
      boolean timedOut = reply == null;
      boolean retriable = timedOut || (reply instanceof Failure f && f.code().retriable());
      if (!retriable) {
        chooser.succeeded(model, replica);
        out.complete(reply);
        return;
      }
      chooser.failed(model, replica);
      long left = deadline - System.nanoTime();
      if (retry && attempt < settings.maxAttempts() && left > MIN_RETRY_NANOS) {
        retries.increment();
        tried.add(replica);
        attempt(model, command, deadline, timeout, onFailure, tried, attempt + 1, retry, out);
      } else {
        if (attempt > 1) {
          retriesExhausted.increment();
        }
        out.complete(!timedOut ? reply : onFailure.apply(new Failure(ErrorCode.DEADLINE_EXCEEDED,
            "Deadline exceeded: no answer from " + model + " within " + timeout.toMillis() + " ms"
                + (attempt > 1 ? " (" + attempt + " attempts)" : ""))));
      }
    });
  }

  /**
   * Replicas of {@code model} hosted (as their nodes last published) on members that are leaving,
   * exiting, down or unreachable: the router prefers the others, so a draining node stops
   * receiving new requests before it goes.
   */
  private Set<Integer> onLeavingNodes(String model) {
    var state = akka.cluster.typed.Cluster.get(system).state();
    Set<String> going = new HashSet<>();
    for (akka.cluster.Member m : state.getMembers()) {
      if (m.status() == akka.cluster.MemberStatus.leaving() || m.status() == akka.cluster.MemberStatus.exiting()
          || m.status() == akka.cluster.MemberStatus.down() || state.getUnreachable().contains(m)) {
        going.add(m.address().toString());
      }
    }
    if (going.isEmpty()) {
      return Set.of();
    }
    Set<Integer> out = new HashSet<>();
    catalog.entries().forEach((node, published) -> {
      if (going.contains(node)) {
        for (String id : published.replicas()) {
          if (EntityIds.model(id).equals(model)) {
            out.add(EntityIds.replica(id));
          }
        }
      }
    });
    return out;
  }

  /** Asks replica {@code replica} of {@code model} once; completes with null when no answer came in time. */
  private <R> CompletionStage<R> raw(String model, int replica, Function<ActorRef<R>, Command> command,
      Duration timeout) {
    EntityRef<Command> ref = sharding.entityRefFor(ModelProtocol.ENTITY_TYPE_KEY, EntityIds.of(model, replica));
    CompletableFuture<R> out = new CompletableFuture<>();
    PlainFutures.of(ref.<R>ask(command::apply, timeout)).whenComplete((reply, error) -> {
      if (error == null) {
        out.complete(reply);
      } else if (error instanceof TimeoutException || error.getCause() instanceof TimeoutException) {
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
    return raw(model, replica, command, timeout).thenApply(reply -> reply != null ? reply
        : onFailure.apply(new Failure(ErrorCode.DEADLINE_EXCEEDED, "Deadline exceeded: no answer from " + model
            + " replica " + replica + " within " + timeout.toMillis() + " ms")));
  }

  /** Requests retried on another replica, and requests that failed after retrying. */
  public long retries() {
    return retries.sum();
  }

  public long retriesExhausted() {
    return retriesExhausted.sum();
  }
}
