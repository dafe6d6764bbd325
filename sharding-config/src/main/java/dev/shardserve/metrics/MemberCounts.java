package dev.shardserve.metrics;

import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.UniqueAddress;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Counts cluster members by (status, role, reachable), the labels of
 * {@code shardserve_cluster_members}. A member with two roles counts once under each; Akka's
 * data-centre role ({@code dc-default}) is not a role here; a member without roles counts under
 * {@code role="none"}. Status is Akka's member status in snake case ({@code up},
 * {@code weakly_up}, {@code leaving}, ...).
 */
final class MemberCounts {
  static final String NO_ROLE = "none";

  private MemberCounts() {}

  static Map<List<String>, Integer> of(Collection<Member> members, Set<UniqueAddress> unreachable) {
    Map<List<String>, Integer> counts = new TreeMap<>((a, b) -> String.join("\u0000", a).compareTo(String.join("\u0000", b)));
    for (Member m : members) {
      String status = status(m.status());
      String reachable = Boolean.toString(!unreachable.contains(m.uniqueAddress()));
      boolean anyRole = false;
      for (String role : m.getRoles()) {
        if (!role.startsWith("dc-")) {
          anyRole = true;
          counts.merge(List.of(status, role, reachable), 1, Integer::sum);
        }
      }
      if (!anyRole) {
        counts.merge(List.of(status, NO_ROLE, reachable), 1, Integer::sum);
      }
    }
    return counts;
  }

  /** {@code WeaklyUp} → {@code weakly_up}. */
  static String status(MemberStatus status) {
    String name = status.toString();
    StringBuilder out = new StringBuilder(name.length() + 4);
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (Character.isUpperCase(c)) {
        if (i > 0) {
          out.append('_');
        }
        out.append(Character.toLowerCase(c));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }
}
