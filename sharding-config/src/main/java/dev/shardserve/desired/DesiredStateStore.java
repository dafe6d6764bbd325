package dev.shardserve.desired;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import akka.cluster.ddata.LWWRegister;
import akka.cluster.ddata.SelfUniqueAddress;
import akka.cluster.ddata.typed.javadsl.DistributedData;
import akka.cluster.ddata.typed.javadsl.Replicator;
import dev.shardserve.concurrent.PlainFutures;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads and writes the {@link DesiredState} register. Writes go to every reachable node at once
 * ({@code WriteAll}), so that an admin change reaches all replicas in well under the gossip
 * interval; when some node does not confirm within the timeout the write still stands locally
 * and spreads by gossip, and the caller is told so. With durable storage configured
 * ({@code shardserve.data-dir}) the replicator answers only after it has loaded the stored state,
 * so a process that restarts reads what it wrote before.
 */
public final class DesiredStateStore {
  private static final Logger log = LoggerFactory.getLogger(DesiredStateStore.class);

  /** The outcome of a write: the new state, and whether every node confirmed it. */
  public record Written(DesiredState state, boolean allConfirmed) {}

  private final ActorSystem<?> system;
  private final ActorRef<Replicator.Command> replicator;
  private final SelfUniqueAddress self;
  private final Duration timeout;

  public DesiredStateStore(ActorSystem<?> system, Duration timeout) {
    this.system = system;
    this.replicator = DistributedData.get(system).replicator();
    this.self = DistributedData.get(system).selfUniqueAddress();
    this.timeout = timeout;
  }

  /** True when some state was ever written (by a config file or the admin API). */
  public CompletionStage<Boolean> exists() {
    return getLocal(timeout.plusSeconds(60)).thenApply(resp -> resp instanceof Replicator.GetSuccess);
  }

  /** The local replica's value (answered once a durable store has been loaded). */
  private CompletionStage<Replicator.GetResponse<LWWRegister<DesiredState>>> getLocal(Duration askTimeout) {
    return PlainFutures.of(AskPattern.ask(replicator,
        replyTo -> new Replicator.Get<>(DesiredState.KEY, Replicator.readLocal(), replyTo),
        askTimeout, system.scheduler()));
  }

  /**
   * Applies {@code change} to the current state and writes the result. The change may throw
   * {@link IllegalArgumentException} to refuse (nothing is written, the stage fails with it).
   */
  public CompletionStage<Written> update(UnaryOperator<DesiredState> change) {
    CompletableFuture<DesiredState> written = new CompletableFuture<>();
    CompletionStage<Replicator.UpdateResponse<LWWRegister<DesiredState>>> r = AskPattern.ask(replicator,
        replyTo -> new Replicator.Update<>(DesiredState.KEY,
            LWWRegister.create(self, DesiredState.INITIAL), new Replicator.WriteAll(timeout), replyTo,
            reg -> {
              DesiredState next = change.apply(reg.getValue());
              written.complete(next);
              return reg.withValue(self, next);
            }),
        timeout.plusSeconds(5), system.scheduler());
    return PlainFutures.of(r).thenCompose(resp -> flushed().thenApply(flushed -> resp)).thenApply(resp -> {
      if (resp instanceof Replicator.UpdateSuccess) {
        return new Written(written.join(), true);
      }
      if (resp instanceof Replicator.UpdateTimeout) {
        log.warn("desired state written locally; not every node confirmed within {} (gossip will carry it)",
            timeout);
        return new Written(written.join(), false);
      }
      if (resp instanceof Replicator.ModifyFailure<?> f) {
        Throwable cause = f.cause();
        throw cause instanceof IllegalArgumentException iae ? iae : new IllegalStateException(f.errorMessage(), cause);
      }
      throw new IllegalStateException("desired state not written: " + resp);
    });
  }

  /**
   * Notifies this node's subscribers (its model replicas) now rather than at the next
   * {@code notify-subscribers-interval}; completes once they have been sent the change (the
   * replicator handles messages in order, so a Get answered after the flush comes after it).
   * A request sent after an admin answer therefore meets the new state on this node; other
   * nodes' replicas hear of it within their notify interval.
   */
  private CompletionStage<?> flushed() {
    replicator.tell(Replicator.flushChanges());
    return getLocal(timeout);
  }

  /** Writes {@code state} unless some state exists already (a config file seeds only the first start). */
  public CompletionStage<Boolean> seed(DesiredState state) {
    return exists().thenCompose(present -> present
        ? CompletableFuture.completedFuture(false)
        : update(old -> state).thenApply(w -> true));
  }
}
