package dev.shardserve.ddata;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.ddata.Key;
import akka.cluster.ddata.ReplicatedData;
import akka.cluster.ddata.typed.javadsl.DistributedData;
import akka.cluster.ddata.typed.javadsl.Replicator;
import akka.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The latest local value of one Distributed Data key, kept by a small subscriber actor and read
 * without blocking by request handlers.
 */
public final class ReplicatedView<A extends ReplicatedData> {
  private final AtomicReference<A> latest;

  private interface Message {}

  private final class Got implements Message {
    final Replicator.GetResponse<A> response;

    Got(Replicator.GetResponse<A> response) {
      this.response = response;
    }
  }

  private final class Changed implements Message {
    final Replicator.SubscribeResponse<A> response;

    Changed(Replicator.SubscribeResponse<A> response) {
      this.response = response;
    }
  }

  private ReplicatedView(A empty) {
    this.latest = new AtomicReference<>(empty);
  }

  public static <A extends ReplicatedData> ReplicatedView<A> start(ActorSystem<?> system, Key<A> key, A empty,
      String name) {
    ReplicatedView<A> view = new ReplicatedView<>(empty);
    system.systemActorOf(view.behavior(key), name, Props.empty());
    return view;
  }

  public A get() {
    return latest.get();
  }

  @SuppressWarnings("unchecked")
  private A cast(Object value) {
    return (A) value; // the replies come for this view's key only
  }

  private Behavior<Message> behavior(Key<A> key) {
    return Behaviors.setup(ctx -> DistributedData.withReplicatorMessageAdapter(
        (ReplicatorMessageAdapter<Message, A> replicator) -> {
          replicator.subscribe(key, Changed::new);
          replicator.askGet(replyTo -> new Replicator.Get<>(key, Replicator.readLocal(), replyTo), Got::new);
          return Behaviors.receive(Message.class)
              .onMessage(Got.class, g -> {
                if (g.response instanceof Replicator.GetSuccess<?> ok) {
                  latest.set(cast(ok.dataValue()));
                }
                return Behaviors.same();
              })
              .onMessage(Changed.class, c -> {
                if (c.response instanceof Replicator.Changed<?> changed) {
                  latest.set(cast(changed.dataValue()));
                }
                return Behaviors.same();
              })
              .build();
        }));
  }
}
