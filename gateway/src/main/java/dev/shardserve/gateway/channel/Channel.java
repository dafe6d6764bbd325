package dev.shardserve.gateway.channel;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import dev.shardserve.channel.ChannelProtocol;
import dev.shardserve.channel.ChannelProtocol.Credit;
import dev.shardserve.channel.ChannelProtocol.Open;
import dev.shardserve.channel.ChannelProtocol.Opened;
import dev.shardserve.channel.ChannelProtocol.Reply;
import dev.shardserve.channel.ChannelProtocol.ReplyFrame;
import dev.shardserve.channel.ChannelProtocol.Request;
import dev.shardserve.channel.ChannelProtocol.RequestFrame;
import dev.shardserve.channel.ChannelProtocol.ToInbox;
import dev.shardserve.channel.FrameCodec;
import dev.shardserve.concurrent.Ticker;
import dev.shardserve.dataplane.InferCall;
import dev.shardserve.metrics.RefusalReason;
import dev.shardserve.metrics.ShardServeMetrics;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.InferReply;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * A gateway's long-lived channel to one worker node's inbox: requests are submitted from any
 * thread ({@link #submit}: a correlation id, a queue, at most one wake of the channel's actor per
 * frame), and leave together in the next request frame; answers come back in reply frames and
 * complete their requests on the dispatcher's threads, never on the actor. Flow control: at most
 * {@code max-requests-in-flight} requests outstanding (one more is answered OVERLOADED at once: a
 * fast 503) and {@code max-frames-in-flight} frames unacknowledged (below Artery's send queue, so
 * nothing is dropped silently). A request that does not fit in a frame is refused TOO_LARGE naming
 * both sizes, before it is sent. The actor watches the inbox: when the node leaves or crashes, or
 * is {@link #unreachable}, every request in flight is answered UNAVAILABLE, which the router
 * retries on another replica within its deadline; a sweep answers DEADLINE_EXCEEDED to requests
 * whose deadline passed, so none waits past it.
 *
 * <p>States: opening (Open sent, {@link #submit} refuses) → open → closed (inbox gone: final).
 */
public final class Channel {

  /** Limits of a channel ({@code shardserve.gateway.channel}). */
  public record Settings(int maxRequestsInFlight, int maxFramesInFlight, long maxFrameBytes, Duration sweepInterval) {
    public Settings {
      if (maxRequestsInFlight < 1 || maxFramesInFlight < 1 || maxFrameBytes < 64 * 1024 || sweepInterval.isZero()
          || sweepInterval.isNegative()) {
        throw new IllegalArgumentException("shardserve.gateway.channel: need max-requests-in-flight >= 1, "
            + "max-frames-in-flight >= 1, a frame of >= 64 KiB and sweep-interval > 0; was " + maxRequestsInFlight
            + ", " + maxFramesInFlight + ", " + maxFrameBytes + ", " + sweepInterval);
      }
    }
  }

  /** A request on its way: who to answer, and its size in a frame. */
  private record Pending(long id, int replica, InferCall call, Consumer<InferReply> reply, long bytes) {}

  private enum Flush {
    INSTANCE
  }

  private enum Sweep {
    INSTANCE
  }

  private static final int ACK_EVERY = 8;
  private static final long HEADER = 1 + 8 + 4 + 4;

  private final String address;
  private final long id = ThreadLocalRandom.current().nextLong();
  private final Settings settings;
  private final Ticker ticker;
  private final Executor completions;
  private final ShardServeMetrics metrics;
  private final AtomicLong nextId = new AtomicLong();
  private final ConcurrentHashMap<Long, Pending> outstanding = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<Pending> outbox = new ConcurrentLinkedQueue<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicBoolean flushScheduled = new AtomicBoolean();
  private final LongAdder framesSent = new LongAdder();
  private final LongAdder requestsSent = new LongAdder();
  private volatile boolean open;
  private volatile boolean closed;
  private volatile boolean reachable = true;
  private volatile ActorRef<Object> actor;
  private volatile ActorRef<ToInbox> inboxRef;

  Channel(String address, Settings settings, Ticker ticker, Executor completions, ShardServeMetrics metrics) {
    this.address = address;
    this.settings = settings;
    this.ticker = ticker;
    this.completions = completions;
    this.metrics = metrics;
  }

  /** The node's address. */
  public String address() {
    return address;
  }

  /** The inbox this channel goes to (null until its actor started). */
  ActorRef<ToInbox> inbox() {
    return inboxRef;
  }

  /** True once the node's inbox is gone: this channel never opens again. */
  boolean wasClosed() {
    return closed;
  }

  /** True when requests can be submitted (open, the node reachable). */
  public boolean usable() {
    return open && !closed && reachable;
  }

  /** Frames and requests sent so far: requests per frame shows how much the channel batches. */
  public long framesSent() {
    return framesSent.sum();
  }

  public long requestsSent() {
    return requestsSent.sum();
  }

  public int inFlight() {
    return inFlight.get();
  }

  /**
   * Sends a request to replica {@code replica} on this node. False when the channel cannot take it
   * now (not open, closed, unreachable): the caller routes it otherwise. True when it took it:
   * {@code reply} is then called exactly once (OVERLOADED at once when the channel is full,
   * TOO_LARGE at once when it cannot fit in a frame).
   */
  public boolean submit(int replica, InferCall call, long remainingMicros, Consumer<InferReply> reply) {
    if (!usable()) {
      return false;
    }
    long rid = nextId.incrementAndGet();
    long bytes = FrameCodec.size(new Request(rid, replica, remainingMicros, call));
    if (bytes + HEADER > settings.maxFrameBytes()) {
      metrics.model(call.model()).refused(RefusalReason.BYTES);
      reply.accept(new Failure(ErrorCode.TOO_LARGE, "the request takes " + bytes + " bytes on the wire, more than the "
          + "cluster frame limit of " + settings.maxFrameBytes() + " bytes "
          + "(akka.remote.artery.advanced.maximum-large-frame-size)"));
      return true;
    }
    if (inFlight.incrementAndGet() > settings.maxRequestsInFlight()) {
      inFlight.decrementAndGet();
      metrics.model(call.model()).refused(RefusalReason.CHANNEL_FULL);
      reply.accept(new Failure(ErrorCode.OVERLOADED, "the channel to node " + address + " has "
          + settings.maxRequestsInFlight() + " requests in flight (shardserve.gateway.channel.max-requests-in-flight)"));
      return true;
    }
    Pending p = new Pending(rid, replica, call, reply, bytes);
    outstanding.put(rid, p);
    outbox.add(p);
    if (closed) { // closed meanwhile: answer it here rather than leave it in a dead queue
      fail(p, ErrorCode.UNAVAILABLE, "node " + address + " left");
      return true;
    }
    wake();
    return true;
  }

  private void wake() {
    ActorRef<Object> a = actor;
    if (a != null && flushScheduled.compareAndSet(false, true)) {
      a.tell(Flush.INSTANCE);
    }
  }

  /** Whether its node is reachable and has not left (its answers then come from a live node). */
  public boolean live() {
    return reachable && !closed;
  }

  /** The node became unreachable: what is in flight is answered UNAVAILABLE (retried elsewhere); no new request is taken. */
  void unreachable() {
    reachable = false;
    failAll(ErrorCode.UNAVAILABLE, "node " + address + " is unreachable");
  }

  void reachable() {
    reachable = true;
  }

  /** Answers {@code p} once (if it is still outstanding). */
  private void fail(Pending p, ErrorCode code, String message) {
    if (outstanding.remove(p.id(), p)) {
      inFlight.decrementAndGet();
      if (code == ErrorCode.DEADLINE_EXCEEDED) {
        metrics.model(p.call().model()).refused(RefusalReason.DEADLINE);
      }
      p.reply().accept(new Failure(code, message));
    }
  }

  private void failAll(ErrorCode code, String message) {
    List<Pending> all = new ArrayList<>(outstanding.values());
    if (!all.isEmpty()) {
      completions.execute(() -> {
        for (Pending p : all) {
          fail(p, code, message);
        }
      });
    }
  }

  /** The actor of this channel, a child of {@link NodeChannels}' actor. */
  Behavior<Object> behavior(ActorRef<ToInbox> inbox) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      actor = ctx.getSelf();
      inboxRef = inbox;
      ctx.watch(inbox);
      inbox.tell(new Open(id, ChannelProtocol.FORMAT, ctx.getSelf().narrow()));
      timers.startTimerWithFixedDelay(Sweep.INSTANCE, settings.sweepInterval());
      return new Actor(ctx, inbox).receive();
    }));
  }

  /** The channel's actor: it alone sends frames and counts credit. */
  private final class Actor {
    final ActorContext<Object> ctx;
    final ActorRef<ToInbox> inbox;
    int framesInFlight;
    int replyFramesToAck;

    Actor(ActorContext<Object> ctx, ActorRef<ToInbox> inbox) {
      this.ctx = ctx;
      this.inbox = inbox;
    }

    Behavior<Object> receive() {
      return Behaviors.receive(Object.class)
          .onMessage(Opened.class, m -> {
            if (m.channelId() == id) {
              open = true;
              ctx.getLog().info("channel {} to {} is open (frame format {})", id, address, m.format());
              flush();
            }
            return Behaviors.same();
          })
          .onMessageEquals(Flush.INSTANCE, () -> {
            flushScheduled.set(false);
            flush();
            return Behaviors.same();
          })
          .onMessage(ReplyFrame.class, this::onReplies)
          .onMessage(Credit.class, m -> {
            framesInFlight = Math.max(0, framesInFlight - m.frames());
            flush();
            return Behaviors.same();
          })
          .onMessageEquals(Sweep.INSTANCE, () -> {
            sweep();
            return Behaviors.same();
          })
          .onSignal(akka.actor.typed.Terminated.class, t -> {
            closed = true;
            open = false;
            ctx.getLog().info("channel {} to {} closed: the node's inbox is gone; {} requests in flight go elsewhere",
                id, address, outstanding.size());
            failAll(ErrorCode.UNAVAILABLE, "node " + address + " left");
            return Behaviors.stopped();
          })
          .onSignal(akka.actor.typed.PostStop.class, s -> {
            closed = true;
            open = false;
            failAll(ErrorCode.UNAVAILABLE, "the channel to node " + address + " stopped");
            return Behaviors.same();
          })
          .build();
    }

    private Behavior<Object> onReplies(ReplyFrame f) {
      framesInFlight = Math.max(0, framesInFlight - f.requestsAcked());
      replyFramesToAck++;
      List<Reply> replies = f.replies();
      completions.execute(() -> {
        for (Reply r : replies) {
          Pending p = outstanding.remove(r.id());
          if (p != null) {
            inFlight.decrementAndGet();
            p.reply().accept(r.reply());
          }
        }
      });
      flush();
      return Behaviors.same();
    }

    /** Sends the queued requests in frames up to the frame limit, while credit lasts; acknowledges replies. */
    private void flush() {
      if (!open) {
        return;
      }
      long now = ticker.nanos();
      List<Pending> expired = null;
      while (framesInFlight < settings.maxFramesInFlight() && !outbox.isEmpty()) {
        List<Request> frame = new ArrayList<>();
        long bytes = HEADER;
        for (Pending p = outbox.peek(); p != null; p = outbox.peek()) {
          if (!frame.isEmpty() && bytes + p.bytes() > settings.maxFrameBytes()) {
            break;
          }
          outbox.poll();
          long remaining = (p.call().deadlineNanos() - now) / 1000;
          if (remaining <= 0 || !outstanding.containsKey(p.id())) {
            if (remaining <= 0) {
              if (expired == null) {
                expired = new ArrayList<>();
              }
              expired.add(p);
            }
            continue;
          }
          frame.add(new Request(p.id(), p.replica(), remaining, p.call()));
          bytes += p.bytes();
        }
        if (frame.isEmpty()) {
          continue;
        }
        inbox.tell(new RequestFrame(id, replyFramesToAck, frame));
        replyFramesToAck = 0;
        framesInFlight++;
        framesSent.increment();
        requestsSent.add(frame.size());
      }
      if (replyFramesToAck >= ACK_EVERY) {
        inbox.tell(new Credit(id, replyFramesToAck));
        replyFramesToAck = 0;
      }
      if (expired != null) {
        List<Pending> late = expired;
        completions.execute(() -> {
          for (Pending p : late) {
            fail(p, ErrorCode.DEADLINE_EXCEEDED, "deadline exceeded before " + p.call().model() + " was sent to "
                + address);
          }
        });
      }
    }

    /** Answers requests whose deadline passed (none waits past it), and acknowledges replies on a quiet channel. */
    private void sweep() {
      long now = ticker.nanos();
      List<Pending> overdue = new ArrayList<>();
      for (Map.Entry<Long, Pending> e : outstanding.entrySet()) {
        if (now - e.getValue().call().deadlineNanos() >= 0) {
          overdue.add(e.getValue());
        }
      }
      if (!overdue.isEmpty()) {
        completions.execute(() -> {
          for (Pending p : overdue) {
            fail(p, ErrorCode.DEADLINE_EXCEEDED, "Deadline exceeded: no answer from " + p.call().model()
                + " replica " + p.replica() + " on " + address);
          }
        });
      }
      if (replyFramesToAck > 0 && outbox.isEmpty()) {
        inbox.tell(new Credit(id, replyFramesToAck));
        replyFramesToAck = 0;
      }
    }
  }
}
