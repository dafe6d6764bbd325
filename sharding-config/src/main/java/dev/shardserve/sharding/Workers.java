package dev.shardserve.sharding;

import akka.actor.typed.ActorSystem;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;

/** How many worker nodes are up, as this node sees the cluster (for the automatic replica count). */
public final class Workers {
  private Workers() {}

  public static int up(ActorSystem<?> system) {
    String role = system.settings().config().getString("shardserve.sharding.worker-role");
    int n = 0;
    for (Member m : Cluster.get(system).state().getMembers()) {
      if (m.hasRole(role) && (m.status() == MemberStatus.up() || m.status() == MemberStatus.weaklyUp())) {
        n++;
      }
    }
    return n;
  }
}
