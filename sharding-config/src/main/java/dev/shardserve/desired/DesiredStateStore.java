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
import java.util.concurrent.TimeUnit;
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

  /**
   * The state as this node's replica holds it now: after {@link #update} has answered, it holds
   * that write (read your writes), whereas subscribers hear of it a moment later.
   */
  public CompletionStage<DesiredState> read() {
    return getLocal(timeout).thenApply(resp -> resp instanceof Replicator.GetSuccess<LWWRegister<DesiredState>> ok
        ? ok.dataValue().getValue() : DesiredState.INITIAL);
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

  /** What {@link #seed} did. */
  public enum SeedOutcome {
    /** This process had stored a desired state (its data dir): kept, the file not applied. */
    KEPT_STORED,
    /** The cluster has a desired state (read after joining): kept, the file not applied. */
    KEPT_CLUSTER,
    /** Neither had one: the file's state was written. */
    WRITTEN,
    /**
     * The cluster could not be read in time (not joined, no majority answered): the file's state
     * was written all the same, with the lowest timestamp, so any state the cluster holds wins
     * over it as soon as they meet.
     */
    WRITTEN_UNCONFIRMED
  }

  /**
   * The timestamp of a seeded state: lower than any write's (those use the wall clock), so that a
   * seed fills an empty register and never replaces what an admin or another process wrote,
   * whichever reaches a replica first.
   */
  static final long SEED_TIMESTAMP = 0L;

  /**
   * Seeds the desired state with {@code state} (from a model config file) only when the cluster
   * has none: not when this process stored one, nor when the cluster holds one. The cluster is
   * read after this process is Up (waiting at most {@code joinTimeout}), from a majority of the
   * nodes; the write carries {@link #SEED_TIMESTAMP}, so even a seed written without that answer
   * (or racing a node that joins later with its stored state) loses to every real write.
   */
  public CompletionStage<SeedOutcome> seed(DesiredState state, Duration joinTimeout) {
    return exists().thenCompose(stored -> {
      if (stored) {
        return CompletableFuture.completedFuture(SeedOutcome.KEPT_STORED);
      }
      return memberUp(joinTimeout).thenCompose(up -> !up
          ? writeSeed(state).thenApply(w -> SeedOutcome.WRITTEN_UNCONFIRMED)
          : readFromCluster().thenCompose(read -> {
            if (read instanceof Replicator.GetSuccess) {
              return CompletableFuture.completedFuture(SeedOutcome.KEPT_CLUSTER);
            }
            boolean confirmedEmpty = read instanceof Replicator.NotFound;
            if (!confirmedEmpty) {
              log.warn("could not read the desired state from a majority of the cluster within {} ({}): seeding "
                  + "from the model config with the lowest timestamp (any state the cluster holds wins)",
                  timeout, read);
            }
            return writeSeed(state).thenApply(w -> confirmedEmpty ? SeedOutcome.WRITTEN
                : SeedOutcome.WRITTEN_UNCONFIRMED);
          }));
    });
  }

  /** True once this process is an Up member; false when {@code within} passed first. */
  private CompletionStage<Boolean> memberUp(Duration within) {
    CompletableFuture<Boolean> up = new CompletableFuture<>();
    akka.cluster.Cluster.get(system.classicSystem()).registerOnMemberUp(() -> up.complete(true));
    return up.completeOnTimeout(false, within.toMillis(), TimeUnit.MILLISECONDS);
  }

  private CompletionStage<Replicator.GetResponse<LWWRegister<DesiredState>>> readFromCluster() {
    return PlainFutures.of(AskPattern.<Replicator.Command, Replicator.GetResponse<LWWRegister<DesiredState>>>ask(
        replicator, replyTo -> new Replicator.Get<>(DesiredState.KEY, new Replicator.ReadMajority(timeout), replyTo),
        timeout.plusSeconds(5), system.scheduler()));
  }

  private CompletionStage<Replicator.UpdateResponse<LWWRegister<DesiredState>>> writeSeed(DesiredState state) {
    LWWRegister<DesiredState> seeded = LWWRegister.create(self, state, (current, value) -> SEED_TIMESTAMP);
    // The initial value is used only when this replica holds none; an existing one is kept as is.
    return PlainFutures.of(AskPattern.<Replicator.Command, Replicator.UpdateResponse<LWWRegister<DesiredState>>>ask(
        replicator, replyTo -> new Replicator.Update<>(DesiredState.KEY, seeded, new Replicator.WriteMajority(timeout),
            replyTo, existing -> existing),
        timeout.plusSeconds(5), system.scheduler())).thenCompose(resp -> flushed().thenApply(f -> resp));
  }
}
