package dev.shardserve.gateway.routing;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.ddata.LWWMap;
import akka.cluster.ddata.typed.javadsl.DistributedData;
import akka.cluster.ddata.typed.javadsl.Replicator;
import akka.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;
import akka.cluster.typed.Cluster;
import dev.shardserve.protocol.ModelCatalog;
import dev.shardserve.protocol.ModelCatalog.NodeModels;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The gateway's read side of {@link ModelCatalog}: the latest replicated value, kept by a small
 * actor and read without blocking by request handlers. A model exists if a node that is still a
 * member (Joining, Up, WeaklyUp or Leaving) has published it.
 */
public final class ModelCatalogView {
  private final AtomicReference<LWWMap<String, NodeModels>> latest = new AtomicReference<>(LWWMap.empty());
  private final ActorSystem<?> system;

  private interface Message {}

  private record Got(Replicator.GetResponse<LWWMap<String, NodeModels>> response) implements Message {}

  private record Changed(Replicator.SubscribeResponse<LWWMap<String, NodeModels>> response) implements Message {}

  private ModelCatalogView(ActorSystem<?> system) {
    this.system = system;
  }

  public static ModelCatalogView start(ActorSystem<?> system) {
    ModelCatalogView view = new ModelCatalogView(system);
    system.systemActorOf(view.behavior(), "model-catalog-view", Props.empty());
    return view;
  }

  private Behavior<Message> behavior() {
    return Behaviors.setup(ctx -> DistributedData.withReplicatorMessageAdapter(
        (ReplicatorMessageAdapter<Message, LWWMap<String, NodeModels>> replicator) -> {
          replicator.subscribe(ModelCatalog.KEY, Changed::new);
          replicator.askGet(replyTo -> new Replicator.Get<>(ModelCatalog.KEY, Replicator.readLocal(), replyTo),
              Got::new);
          return Behaviors.receive(Message.class)
              .onMessage(Got.class, g -> {
                if (g.response() instanceof Replicator.GetSuccess<LWWMap<String, NodeModels>> ok) {
                  latest.set(ok.dataValue());
                }
                return Behaviors.same();
              })
              .onMessage(Changed.class, c -> {
                if (c.response() instanceof Replicator.Changed<LWWMap<String, NodeModels>> changed) {
                  latest.set(changed.dataValue());
                }
                return Behaviors.same();
              })
              .build();
        }));
  }

  /** True when a current member node has published {@code model}. */
  public boolean contains(String model) {
    Set<String> members = liveMembers();
    for (Map.Entry<String, NodeModels> e : latest.get().getEntries().entrySet()) {
      if (e.getValue().models().contains(model) && members.contains(e.getKey())) {
        return true;
      }
    }
    return false;
  }

  /** True when some member that is Up (or joining, weakly up, leaving) has {@code role}. */
  public boolean hasLiveMemberWithRole(String role) {
    for (Member m : Cluster.get(system).state().getMembers()) {
      if (isLive(m.status()) && m.hasRole(role)) {
        return true;
      }
    }
    return false;
  }

  private static boolean isLive(MemberStatus s) {
    return s == MemberStatus.up() || s == MemberStatus.weaklyUp() || s == MemberStatus.joining()
        || s == MemberStatus.leaving();
  }

  private Set<String> liveMembers() {
    Set<String> out = new HashSet<>();
    for (Member m : Cluster.get(system).state().getMembers()) {
      if (isLive(m.status())) {
        out.add(m.address().toString());
      }
    }
    return out;
  }
}
