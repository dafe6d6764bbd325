package dev.shardserve.gateway.routing;

import akka.actor.typed.ActorSystem;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.ddata.LWWMap;
import akka.cluster.typed.Cluster;
import dev.shardserve.ddata.ReplicatedView;
import dev.shardserve.protocol.ModelCatalog;
import dev.shardserve.protocol.ModelCatalog.NodeModels;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The gateway's read side of {@link ModelCatalog}: the latest replicated value, kept by a small
 * actor and read without blocking by request handlers. A model exists if a node that is still a
 * member (Joining, Up, WeaklyUp or Leaving) has published it.
 */
public final class ModelCatalogView {
  private final ReplicatedView<LWWMap<String, NodeModels>> latest;
  private final ActorSystem<?> system;

  private ModelCatalogView(ActorSystem<?> system) {
    this.system = system;
    this.latest = ReplicatedView.start(system, ModelCatalog.KEY, LWWMap.empty(), "model-catalog-view");
  }

  public static ModelCatalogView start(ActorSystem<?> system) {
    return new ModelCatalogView(system);
  }

  /** What each node published (models and capacity), by node address. */
  public Map<String, NodeModels> entries() {
    return latest.get().getEntries();
  }

  /** Every model some current member node has published. */
  public Set<String> models() {
    Set<String> members = liveMembers();
    Set<String> out = new java.util.TreeSet<>();
    for (Map.Entry<String, NodeModels> e : latest.get().getEntries().entrySet()) {
      if (members.contains(e.getKey())) {
        out.addAll(e.getValue().models());
      }
    }
    return out;
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
