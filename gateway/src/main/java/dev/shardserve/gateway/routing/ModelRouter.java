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
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol;
import dev.shardserve.protocol.ModelProtocol.Command;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.sharding.EntityIds;
import dev.shardserve.sharding.ReplicaShardExtractor;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Sends commands to a model's replica through the sharding region (a proxy on gateway-only
 * nodes), each ask bounded by the request's deadline. Only models in the
 * {@link ModelCatalogView} are routed: an unknown name never creates an entity. A replica that
 * does not answer in time becomes a {@code DEADLINE_EXCEEDED} failure value.
 */
public final class ModelRouter {
  private final ClusterSharding sharding;
  private final ModelCatalogView catalog;
  private final ReplicatedView<LWWRegister<DesiredState>> desired;
  private final String workerRole;
  private final AtomicInteger next = new AtomicInteger();

  private ModelRouter(ClusterSharding sharding, ModelCatalogView catalog,
      ReplicatedView<LWWRegister<DesiredState>> desired, String workerRole) {
    this.sharding = sharding;
    this.catalog = catalog;
    this.desired = desired;
    this.workerRole = workerRole;
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
    return new ModelRouter(sharding, ModelCatalogView.start(system),
        ReplicatedView.start(system, DesiredState.KEY, null, "desired-state-view"), role);
  }

  public ModelCatalogView catalog() {
    return catalog;
  }

  /** The desired state as this node last heard it. */
  public DesiredState desired() {
    LWWRegister<DesiredState> r = desired.get();
    return r == null ? DesiredState.INITIAL : r.getValue();
  }

  /** How many replicas serve {@code model} (1 unless its spec says otherwise). */
  public int replicas(String model) {
    ModelSpec spec = desired().models().get(model);
    return spec == null ? 1 : spec.replicas();
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
   * Asks one replica of {@code model} (in turn); completes with the reply, or with a
   * {@link Failure} of {@code DEADLINE_EXCEEDED} when no answer came within {@code timeout}.
   */
  public <R> CompletionStage<R> ask(String model, Function<ActorRef<R>, Command> command, Duration timeout,
      Function<Failure, R> onFailure) {
    int replicas = replicas(model);
    int replica = replicas == 1 ? 0 : Math.floorMod(next.getAndIncrement(), replicas);
    return askReplica(model, replica, command, timeout, onFailure);
  }

  /** Asks replica {@code replica} of {@code model}, as {@link #ask}. */
  public <R> CompletionStage<R> askReplica(String model, int replica, Function<ActorRef<R>, Command> command,
      Duration timeout, Function<Failure, R> onFailure) {
    EntityRef<Command> ref = sharding.entityRefFor(ModelProtocol.ENTITY_TYPE_KEY, EntityIds.of(model, replica));
    CompletableFuture<R> out = new CompletableFuture<>();
    PlainFutures.of(ref.<R>ask(command::apply, timeout)).whenComplete((reply, error) -> {
      if (error == null) {
        out.complete(reply);
      } else if (error instanceof TimeoutException || error.getCause() instanceof TimeoutException) {
        out.complete(onFailure.apply(new Failure(ErrorCode.DEADLINE_EXCEEDED,
            "Deadline exceeded: no answer from " + model + " within " + timeout.toMillis() + " ms")));
      } else {
        out.complete(onFailure.apply(new Failure(ErrorCode.INTERNAL, String.valueOf(error.getMessage()))));
      }
    });
    return out;
  }
}
