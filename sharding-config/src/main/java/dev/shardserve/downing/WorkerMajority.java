package dev.shardserve.downing;

import akka.cluster.Member;
import akka.cluster.UniqueAddress;
import akka.cluster.sbr.DowningStrategy;
import scala.Option;
import scala.collection.immutable.SortedSet;

/**
 * The split brain resolver's decision for shardserve: keep the side of a partition (or of a crash)
 * with the most <em>worker</em> nodes, the ones that host the replicas. Gateways do not outvote
 * workers; they only break a tie between equal worker counts. Then, as Akka's keep-majority does,
 * the side with the member of the lowest address stays.
 *
 * <ol>
 *   <li>more reachable workers than unreachable ones: down the unreachable side (and the
 *       reverse);
 *   <li>as many workers on each side: the side with more members (gateways included) stays;
 *   <li>as many members too: the side holding the lowest address stays.
 * </ol>
 *
 * Akka's {@code keep-majority} with {@code role = worker} decides step 1 and then step 3 only:
 * with two workers, the crash of the one with the lower address would make the other worker and
 * the gateways down themselves (the whole cluster stops); counting every member instead (Akka's
 * default) lets gateways keep the side with fewer workers. Like Akka's strategy, this one downs
 * indirectly connected nodes first, and downs everything when a membership change during the
 * partition makes the decision uncertain (Joining members counted on the other side, Leaving ones
 * not on this one). Not thread-safe: the resolver actor owns it.
 */
public final class WorkerMajority extends DowningStrategy {
  private final Option<String> workerRole;

  public WorkerMajority(String selfDataCenter, String workerRole, UniqueAddress self) {
    super(selfDataCenter, self);
    this.workerRole = Option.apply(workerRole);
  }

  /** Members with this role are the workers (the resolver's "...WithRole" sets). */
  @Override
  public Option<String> role() {
    return workerRole;
  }

  @Override
  public Decision decide() {
    if (hasIndirectlyConnected()) {
      return DowningStrategy.DownIndirectlyConnected$.MODULE$;
    }
    SortedSet<Member> all = members();
    if (all.isEmpty()) {
      return DowningStrategy.DownAll$.MODULE$;
    }
    Decision decision = majority(
        reachableMembersWithRole().size(), unreachableMembersWithRole().size(),
        reachableMembers().size(), unreachableMembers().size(), all.head());
    if (decision != DowningStrategy.DownUnreachable$.MODULE$) {
      return decision;
    }
    // Membership changing during the partition: count this side low (no Joining, no Leaving) and
    // the other side high (Joining and Leaving). A different answer means no safe answer.
    SortedSet<Member> few = members(false, true);
    if (few.isEmpty()) {
      return DowningStrategy.DownAll$.MODULE$;
    }
    Decision edge = majority(
        reachableMembersWithRole(false, true).size(), unreachableMembersWithRole(true, false).size(),
        reachableMembers(false, true).size(), unreachableMembers(true, false).size(), few.head());
    return edge == DowningStrategy.DownUnreachable$.MODULE$ ? edge : DowningStrategy.DownAll$.MODULE$;
  }

  private Decision majority(int workersHere, int workersThere, int membersHere, int membersThere, Member lowest) {
    if (workersHere != workersThere) {
      return workersHere > workersThere ? DowningStrategy.DownUnreachable$.MODULE$
          : DowningStrategy.DownReachable$.MODULE$;
    }
    if (membersHere != membersThere) {
      return membersHere > membersThere ? DowningStrategy.DownUnreachable$.MODULE$
          : DowningStrategy.DownReachable$.MODULE$;
    }
    return unreachable(lowest) ? DowningStrategy.DownReachable$.MODULE$ : DowningStrategy.DownUnreachable$.MODULE$;
  }
}
