package dev.shardserve.metrics;

import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.ClusterEvent;
import akka.cluster.Member;
import akka.cluster.UniqueAddress;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Subscribe;
import dev.shardserve.logging.LifecycleLog;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Keeps {@code shardserve_cluster_members} equal to the members this process sees, from the
 * cluster's member and reachability events (the current state arrives as events when it
 * subscribes), and writes one lifecycle line per node joined (Up), leaving, downed, removed,
 * unreachable and reachable again. Its view: members by unique address, plus the unreachable
 * set; a removed member leaves both.
 */
final class ClusterMembersListener {
  private final ShardServeMetrics metrics;
  private final LifecycleLog lifecycle;
  private final Map<UniqueAddress, Member> members = new HashMap<>();
  private final Set<UniqueAddress> unreachable = new HashSet<>();

  private ClusterMembersListener(ShardServeMetrics metrics, LifecycleLog lifecycle) {
    this.metrics = metrics;
    this.lifecycle = lifecycle;
  }

  static Behavior<ClusterEvent.ClusterDomainEvent> create(ShardServeMetrics metrics, LifecycleLog lifecycle) {
    return Behaviors.setup(ctx -> {
      Cluster cluster = Cluster.get(ctx.getSystem());
      cluster.subscriptions().tell(Subscribe.create(ctx.getSelf().narrow(), ClusterEvent.MemberEvent.class));
      cluster.subscriptions().tell(Subscribe.create(ctx.getSelf().narrow(), ClusterEvent.ReachabilityEvent.class));
      return new ClusterMembersListener(metrics, lifecycle).behavior();
    });
  }

  private Behavior<ClusterEvent.ClusterDomainEvent> behavior() {
    return Behaviors.receive(ClusterEvent.ClusterDomainEvent.class)
        .onMessage(ClusterEvent.MemberRemoved.class, this::onRemoved)
        .onMessage(ClusterEvent.MemberEvent.class, this::onMember)
        .onMessage(ClusterEvent.UnreachableMember.class, this::onUnreachable)
        .onMessage(ClusterEvent.ReachableMember.class, this::onReachable)
        .build();
  }

  private Behavior<ClusterEvent.ClusterDomainEvent> onMember(ClusterEvent.MemberEvent e) {
    Member m = e.member();
    members.put(m.uniqueAddress(), m);
    if (e instanceof ClusterEvent.MemberUp) {
      lifecycle.nodeJoined(m.address().toString(), roles(m));
    } else if (e instanceof ClusterEvent.MemberLeft) {
      lifecycle.nodeLeaving(m.address().toString(), roles(m));
    } else if (e instanceof ClusterEvent.MemberDowned) {
      lifecycle.nodeDowned(m.address().toString(), roles(m));
    }
    publish();
    return Behaviors.same();
  }

  private Behavior<ClusterEvent.ClusterDomainEvent> onRemoved(ClusterEvent.MemberRemoved e) {
    Member m = e.member();
    members.remove(m.uniqueAddress());
    unreachable.remove(m.uniqueAddress());
    lifecycle.nodeLeft(m.address().toString(), roles(m), MemberCounts.status(e.previousStatus()));
    publish();
    return Behaviors.same();
  }

  private Behavior<ClusterEvent.ClusterDomainEvent> onUnreachable(ClusterEvent.UnreachableMember e) {
    Member m = e.member();
    members.putIfAbsent(m.uniqueAddress(), m);
    unreachable.add(m.uniqueAddress());
    lifecycle.nodeUnreachable(m.address().toString(), roles(m));
    publish();
    return Behaviors.same();
  }

  private Behavior<ClusterEvent.ClusterDomainEvent> onReachable(ClusterEvent.ReachableMember e) {
    Member m = e.member();
    if (unreachable.remove(m.uniqueAddress())) {
      lifecycle.nodeReachable(m.address().toString(), roles(m));
    }
    publish();
    return Behaviors.same();
  }

  private void publish() {
    metrics.clusterMembers(MemberCounts.of(members.values(), unreachable));
  }

  private static Set<String> roles(Member m) {
    Set<String> roles = new TreeSet<>();
    for (String r : m.getRoles()) {
      if (!r.startsWith("dc-")) {
        roles.add(r);
      }
    }
    return roles;
  }
}
