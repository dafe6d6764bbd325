package dev.shardserve.gateway.channel;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.receptionist.Receptionist;
import akka.cluster.ClusterEvent;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Subscribe;
import com.typesafe.config.Config;
import dev.shardserve.channel.ChannelProtocol;
import dev.shardserve.channel.ChannelProtocol.ToInbox;
import dev.shardserve.concurrent.Ticker;
import dev.shardserve.metrics.ShardServeMetrics;
import java.util.Collection;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A gateway's channels, one per worker node: a small actor follows the receptionist's list of
 * node inboxes ({@link ChannelProtocol#INBOX_KEY}) and opens a {@link Channel} to each new one;
 * it follows reachability too, so that a channel to an unreachable node stops taking requests and
 * gives back those in flight. Request handlers find a node's channel with one map lookup.
 */
public final class NodeChannels {
  private final ConcurrentHashMap<String, Channel> byAddress = new ConcurrentHashMap<>();
  private final Channel.Settings settings;
  private final ShardServeMetrics metrics;

  private record Listing(Receptionist.Listing listing) {}

  private record Reachability(ClusterEvent.ReachabilityEvent event) {}

  private record Removed(ClusterEvent.MemberRemoved event) {}

  private NodeChannels(Channel.Settings settings, ShardServeMetrics metrics) {
    this.settings = settings;
    this.metrics = metrics;
  }

  public static NodeChannels start(ActorSystem<?> system, ShardServeMetrics metrics) {
    Config c = system.settings().config();
    long frame = c.getBytes("akka.remote.artery.advanced.maximum-large-frame-size");
    Config g = c.getConfig("shardserve.gateway.channel");
    // Room for Artery's envelope (manifest, addresses) around a frame.
    Channel.Settings settings = new Channel.Settings(g.getInt("max-requests-in-flight"),
        g.getInt("max-frames-in-flight"), frame - 16 * 1024, g.getDuration("sweep-interval"));
    NodeChannels channels = new NodeChannels(settings, metrics);
    system.systemActorOf(channels.behavior(), "shardserve-channels", Props.empty());
    return channels;
  }

  /** The open channel to the node at {@code address}, or null. */
  public Channel get(String address) {
    return byAddress.get(address);
  }

  public Collection<Channel> all() {
    return byAddress.values();
  }

  private Behavior<Object> behavior() {
    return Behaviors.setup(ctx -> {
      AtomicInteger names = new AtomicInteger();
      ctx.getSystem().receptionist().tell(Receptionist.subscribe(ChannelProtocol.INBOX_KEY,
          ctx.messageAdapter(Receptionist.Listing.class, Listing::new)));
      Cluster.get(ctx.getSystem()).subscriptions().tell(Subscribe.create(
          ctx.messageAdapter(ClusterEvent.ReachabilityEvent.class, Reachability::new),
          ClusterEvent.ReachabilityEvent.class));
      Cluster.get(ctx.getSystem()).subscriptions().tell(Subscribe.create(
          ctx.messageAdapter(ClusterEvent.MemberRemoved.class, Removed::new), ClusterEvent.MemberRemoved.class));
      return Behaviors.receive(Object.class)
          .onMessage(Listing.class, m -> {
            Set<ActorRef<ToInbox>> inboxes = m.listing().getServiceInstances(ChannelProtocol.INBOX_KEY);
            Set<String> listed = new HashSet<>();
            for (ActorRef<ToInbox> inbox : inboxes) {
              String address = inbox.path().address().toString();
              listed.add(address);
              Channel current = byAddress.get(address);
              if (current == null || isClosed(current) || (current.inbox() != null && !current.inbox().equals(inbox))) {
                Channel ch = new Channel(address, settings, Ticker.SYSTEM, ctx.getSystem().executionContext(), metrics);
                byAddress.put(address, ch);
                ctx.spawn(ch.behavior(inbox), "channel-" + names.incrementAndGet());
              }
            }
            for (Map.Entry<String, Channel> e : byAddress.entrySet()) {
              if (!listed.contains(e.getKey()) && isClosed(e.getValue())) {
                byAddress.remove(e.getKey(), e.getValue());
              }
            }
            return Behaviors.same();
          })
          .onMessage(Reachability.class, m -> {
            Channel ch = byAddress.get(m.event().member().address().toString());
            if (ch != null) {
              if (m.event() instanceof ClusterEvent.UnreachableMember) {
                ch.unreachable();
              } else {
                ch.reachable();
              }
            }
            return Behaviors.same();
          })
          .onMessage(Removed.class, m -> {
            Channel ch = byAddress.remove(m.event().member().address().toString());
            if (ch != null) {
              ch.unreachable(); // its actor stops when it sees the inbox terminate
            }
            return Behaviors.same();
          })
          .build();
    });
  }

  private static boolean isClosed(Channel c) {
    return !c.usable() && c.wasClosed();
  }
}
