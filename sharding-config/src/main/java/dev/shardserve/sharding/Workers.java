package dev.shardserve.sharding;

import akka.actor.typed.ActorSystem;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;

/** How many worker nodes the automatic replica count sees, as this process sees the cluster. */
public final class Workers {
  private Workers() {}

  /**
   * Worker members that count for automatic replica counts: every one that has joined and is not
   * removed yet. A node that is leaving (a rolling restart), exiting, unreachable or downed still
   * counts until it is removed from the cluster: until then its replicas are being handed off or
   * re-allocated, and the other replicas must not shrink meanwhile. Joining members do not count yet.
   */
  public static int counted(ActorSystem<?> system) {
    String role = system.settings().config().getString("shardserve.sharding.worker-role");
    int n = 0;
    for (Member m : Cluster.get(system).state().getMembers()) {
      if (m.hasRole(role) && counts(m.status())) {
        n++;
      }
    }
    return n;
  }

  /** True for the statuses {@link #counted} counts: everything between joined and removed. */
  public static boolean counts(MemberStatus s) {
    return s == MemberStatus.up() || s == MemberStatus.weaklyUp() || s == MemberStatus.leaving()
        || s == MemberStatus.exiting() || s == MemberStatus.down();
  }
}
