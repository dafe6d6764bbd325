package dev.shardserve.node.inbox;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.Terminated;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.receptionist.Receptionist;
import akka.actor.typed.receptionist.ServiceKey;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import dev.shardserve.channel.ChannelProtocol;
import dev.shardserve.channel.ChannelProtocol.Credit;
import dev.shardserve.channel.ChannelProtocol.Open;
import dev.shardserve.channel.ChannelProtocol.Opened;
import dev.shardserve.channel.ChannelProtocol.Reply;
import dev.shardserve.channel.ChannelProtocol.ReplyFrame;
import dev.shardserve.channel.ChannelProtocol.Request;
import dev.shardserve.channel.ChannelProtocol.RequestFrame;
import dev.shardserve.channel.ChannelProtocol.ToChannel;
import dev.shardserve.channel.ChannelProtocol.ToInbox;
import dev.shardserve.channel.FrameCodec;
import dev.shardserve.concurrent.PlainFutures;
import dev.shardserve.concurrent.Ticker;
import dev.shardserve.dataplane.InferCall;
import dev.shardserve.dataplane.ReplicaHandle;
import dev.shardserve.dataplane.ReplicaHandles;
import dev.shardserve.logging.RequestContext;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.Infer;
import dev.shardserve.protocol.ModelProtocol.InferExamples;
import dev.shardserve.protocol.ModelProtocol.InferReply;
import dev.shardserve.sharding.EntityIds;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A worker node's end of the gateway channels (one actor per node, registered with the
 * receptionist under {@link #KEY}): it takes request frames and submits each request straight
 * into the local replica's {@link ReplicaHandle}; the answers, completed on the runtime threads,
 * queue per channel and leave together in the next reply frame. A request for a replica this node
 * does not serve (it moved, or is still loading) goes through Cluster Sharding, which knows where
 * it lives. The actor only moves frames: answers are serialized by Artery's outbound stream
 * straight from the batch's output buffers.
 *
 * <p>Flow control: at most {@code max-frames-in-flight} reply frames per channel wait for the
 * gateway's acknowledgement; answers ready meanwhile wait here and leave together. Request frames
 * are acknowledged on reply frames, or by a {@link Credit} when no reply is going out.
 */
public final class NodeInbox {
  public static final ServiceKey<ToInbox> KEY = ChannelProtocol.INBOX_KEY;
  public static final String NAME = "shardserve-inbox";
  /** Acknowledge request frames on their own once this many wait for a reply frame to carry them. */
  private static final int ACK_EVERY = 8;

  /** Answers of one channel are ready to go. */
  private record Flush(long channelId) {}

  /** What this node knows of one gateway channel. Actor-confined except {@link #ready}. */
  private static final class Channel {
    final long id;
    final ActorRef<ToChannel> gateway;
    final ConcurrentLinkedQueue<Reply> ready = new ConcurrentLinkedQueue<>();
    final AtomicBoolean flushScheduled = new AtomicBoolean();
    int replyFramesInFlight;
    int requestFramesToAck;

    Channel(long id, ActorRef<ToChannel> gateway) {
      this.id = id;
      this.gateway = gateway;
    }
  }

  /** Limits of the node's side of a channel ({@code shardserve.node.channel}). */
  public record Settings(int maxFramesInFlight, long maxFrameBytes) {
    public Settings {
      if (maxFramesInFlight < 1 || maxFrameBytes < 64 * 1024) {
        throw new IllegalArgumentException("shardserve.node.channel: need max-frames-in-flight >= 1 and a frame of "
            + ">= 64 KiB, was " + maxFramesInFlight + " and " + maxFrameBytes);
      }
    }
  }

  private final ActorContext<Object> ctx;
  private final Settings settings;
  private final ReplicaHandles handles;
  private final ClusterSharding sharding;
  private final String selfAddress;
  private final Ticker ticker = Ticker.SYSTEM;
  private final Map<Long, Channel> channels = new HashMap<>();
  private final Map<ActorRef<ToChannel>, Long> byGateway = new HashMap<>();
  /**
   * Channels closed on a {@link Terminated}, by id, with their gateway end (the last 1,024): a
   * frame that still comes on one re-opens it. Akka can report a watched actor terminated at once
   * when its address belonged to a node that was removed and this node has not yet seen the new
   * incarnation at that address join (a gateway restarted on the same port opens its channels as
   * soon as it sees the workers): the channel's end is alive, and its frames must not be dropped
   * while it waits for answers until each request's deadline.
   */
  private final Map<Long, Channel> closed = new java.util.LinkedHashMap<>() {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, Channel> eldest) {
      return size() > 1024;
    }
  };

  public static Behavior<Object> create(Settings settings) {
    return Behaviors.setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf().narrow()));
      return new NodeInbox(ctx, settings).behavior();
    });
  }

  private NodeInbox(ActorContext<Object> ctx, Settings settings) {
    this.ctx = ctx;
    this.settings = settings;
    this.handles = ReplicaHandles.get(ctx.getSystem());
    this.sharding = ClusterSharding.get(ctx.getSystem());
    this.selfAddress = ctx.getSystem().address().toString();
  }

  private Behavior<Object> behavior() {
    return Behaviors.receive(Object.class)
        .onMessage(Open.class, this::onOpen)
        .onMessage(RequestFrame.class, this::onRequests)
        .onMessage(Credit.class, this::onCredit)
        .onMessage(Flush.class, m -> {
          Channel c = channels.get(m.channelId());
          if (c != null) {
            c.flushScheduled.set(false);
            send(c);
          } else if ((c = closed.get(m.channelId())) != null) {
            c.flushScheduled.set(false); // its answers wait in its queue: sent if a frame re-opens it
          }
          return Behaviors.same();
        })
        .onSignal(Terminated.class, t -> {
          Long id = byGateway.remove(t.getRef());
          if (id != null) {
            Channel c = channels.remove(id);
            if (c != null) {
              closed.put(id, c); // answers still on their way land in its queue, sent if it re-opens
            }
            ctx.getLog().info("channel {} from {} closed: {} answers not delivered", id, t.getRef().path().address(),
                c == null ? 0 : c.ready.size());
          }
          return Behaviors.same();
        })
        .build();
  }

  private Behavior<Object> onOpen(Open m) {
    Channel existing = channels.get(m.channelId());
    if (existing == null) {
      open(m.channelId(), m.channel());
      ctx.getLog().info("channel {} opened by {}", m.channelId(), m.channel().path().address());
    }
    m.channel().tell(new Opened(m.channelId(), Math.min(m.maxFormat(), ChannelProtocol.FORMAT),
        ctx.getSelf().narrow()));
    return Behaviors.same();
  }

  private Behavior<Object> onCredit(Credit m) {
    Channel c = channels.get(m.channelId());
    if (c != null) {
      c.replyFramesInFlight = Math.max(0, c.replyFramesInFlight - m.frames());
      send(c);
    }
    return Behaviors.same();
  }

  private Channel open(long id, ActorRef<ToChannel> gateway) {
    return register(new Channel(id, gateway));
  }

  private Channel register(Channel c) {
    channels.put(c.id, c);
    byGateway.put(c.gateway, c.id);
    closed.remove(c.id);
    ctx.watch(c.gateway);
    return c;
  }

  private Behavior<Object> onRequests(RequestFrame f) {
    Channel c = channels.get(f.channelId());
    if (c == null) {
      Channel was = closed.get(f.channelId());
      if (was == null) {
        ctx.getLog().warn("request frame for unknown channel {} ({} requests): dropped; its gateway re-opens",
            f.channelId(), f.requests().size());
        return Behaviors.same();
      }
      // Its end sends frames, so it lives: the termination seen was of its address's previous incarnation.
      // The same channel, with the answers that became ready meanwhile and its flow-control counts.
      ctx.getLog().info("channel {} from {} re-opened by a frame after it was reported terminated",
          f.channelId(), was.gateway.path().address());
      c = register(was);
    }
    c.replyFramesInFlight = Math.max(0, c.replyFramesInFlight - f.repliesAcked());
    c.requestFramesToAck++;
    for (Request r : f.requests()) {
      submit(c, r);
    }
    send(c);
    return Behaviors.same();
  }

  /** Submits one request into its replica's handle here, or through sharding when it is not served here. */
  private void submit(Channel c, Request r) {
    InferCall call = r.call();
    if (call.requestId() == null && call.traceParent() == null) {
      route(c, r);
      return;
    }
    // The gateway's request id and a span of its trace, in this node's log lines about the request.
    RequestContext context = RequestContext.fromHeaders(call.requestId(), call.traceParent());
    try (RequestContext.Scope scope = context.mdc()) {
      if (ctx.getLog().isDebugEnabled()) {
        ctx.getLog().debug("request for {} replica {} from {}", call.model(), r.replica(), c.gateway.path().address());
      }
      route(c, r);
    }
  }

  private void route(Channel c, Request r) {
    InferCall call = r.call();
    long id = r.id();
    ReplicaHandle handle = handles.find(call.model(), r.replica());
    if (handle != null) {
      handle.submit(call, reply -> ready(c, id, reply));
      return;
    }
    long remainingNanos = call.deadlineNanos() - ticker.nanos();
    if (remainingNanos <= 0) {
      ready(c, id, new Failure(ErrorCode.DEADLINE_EXCEEDED, "deadline exceeded before " + call.model()
          + " could run it"));
      return;
    }
    long deadlineEpochMillis = System.currentTimeMillis() + remainingNanos / 1_000_000L;
    PlainFutures.of(sharding.entityRefFor(ModelProtocol.ENTITY_TYPE_KEY, EntityIds.of(call.model(), r.replica()))
        .<InferReply>ask(replyTo -> call instanceof InferCall.Predict p
            ? new Infer(p.model(), p.version(), p.signatureName(), p.inputs(), deadlineEpochMillis, replyTo)
            : command((InferCall.Examples) call, deadlineEpochMillis, replyTo), Duration.ofNanos(remainingNanos)))
        .whenComplete((reply, error) -> ready(c, id, reply != null ? reply : answerTo(error, call, r.replica())));
  }

  /**
   * The answer to a request whose forwarding through sharding failed: DEADLINE_EXCEEDED when its
   * deadline has passed, else UNAVAILABLE (retriable elsewhere; {@link PlainFutures#timedOut}:
   * this node's shard region may have terminated already, as the node shuts down).
   */
  private Failure answerTo(Throwable error, InferCall call, int replica) {
    if (PlainFutures.timedOut(error, ticker.nanos() - call.deadlineNanos())) {
      return new Failure(ErrorCode.DEADLINE_EXCEEDED, "deadline exceeded: no answer from " + call.model()
          + " replica " + replica);
    }
    return new Failure(ErrorCode.UNAVAILABLE, "replica " + replica + " of " + call.model() + " could not be reached "
        + "from " + selfAddress + ": " + (error == null ? "no answer"
            : error.getCause() instanceof TimeoutException ? error.getCause().getMessage() : error.getMessage()));
  }

  private static InferExamples command(InferCall.Examples e, long deadlineEpochMillis, ActorRef<InferReply> replyTo) {
    return new InferExamples(e.model(), e.version(), e.signatureName(), e.method(), e.examples(), e.context(),
        deadlineEpochMillis, replyTo);
  }

  /** An answer is ready (any thread: usually a runtime thread): it leaves with the channel's next frame. */
  private void ready(Channel c, long id, InferReply reply) {
    c.ready.add(new Reply(id, reply));
    if (c.flushScheduled.compareAndSet(false, true)) {
      ctx.getSelf().tell(new Flush(c.id));
    }
  }

  /** Sends what is ready, in frames up to the frame limit, while the channel has credit. */
  private void send(Channel c) {
    long limit = settings.maxFrameBytes();
    while (c.replyFramesInFlight < settings.maxFramesInFlight() && !c.ready.isEmpty()) {
      List<Reply> frame = new ArrayList<>();
      long bytes = 1 + 8 + 4 + 4;
      for (Reply r = c.ready.peek(); r != null; r = c.ready.peek()) {
        long size = FrameCodec.size(r);
        if (size + 1 + 8 + 4 + 4 > limit) {
          c.ready.poll();
          frame.add(new Reply(r.id(), new Failure(ErrorCode.INTERNAL, "the answer of " + size
              + " bytes is larger than the cluster frame limit of " + limit + " bytes "
              + "(akka.remote.artery.advanced.maximum-large-frame-size)")));
          continue;
        }
        if (!frame.isEmpty() && bytes + size > limit) {
          break;
        }
        c.ready.poll();
        frame.add(r);
        bytes += size;
      }
      c.gateway.tell(new ReplyFrame(c.id, c.requestFramesToAck, frame));
      c.requestFramesToAck = 0;
      c.replyFramesInFlight++;
    }
    if (c.requestFramesToAck >= ACK_EVERY) {
      c.gateway.tell(new Credit(c.id, c.requestFramesToAck));
      c.requestFramesToAck = 0;
    }
  }
}
