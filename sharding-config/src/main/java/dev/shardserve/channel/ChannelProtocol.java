package dev.shardserve.channel;

import akka.actor.typed.ActorRef;
import akka.actor.typed.receptionist.ServiceKey;
import dev.shardserve.dataplane.InferCall;
import dev.shardserve.protocol.ModelProtocol.InferReply;
import java.util.List;
import java.util.Objects;

/**
 * The long-lived channels between a gateway and a worker node, over which inference travels in
 * frames: each request frame carries the requests queued since the last one, each reply frame the
 * answers ready since the last one, matched by correlation ids. No temporary actor and no actor
 * reference per request. Flow control is by credits below what Artery buffers: a gateway has at
 * most {@code max-frames-in-flight} request frames unacknowledged and a node as many reply
 * frames; acknowledgements ride on the frames going the other way, or on a {@link Credit} when
 * nothing else is sent. Every message carries the channel's format version, agreed in the
 * {@link Open}/{@link Opened} handshake, so that a later release can change the frames.
 *
 * <p>Deadlines travel as the remaining budget in microseconds when the frame is written, and are
 * rebased to the receiver's monotonic clock on arrival.
 */
public interface ChannelProtocol {

  /** The newest frame format this release writes and reads. */
  int FORMAT = 1;

  /** Every worker node registers its inbox (the node's end of the channels) with the receptionist under this key. */
  ServiceKey<ToInbox> INBOX_KEY = ServiceKey.create(ToInbox.class, "shardserve-inbox");

  /** Messages a node's inbox takes. */
  sealed interface ToInbox extends FrameMessage permits Open, RequestFrame, Credit {}

  /** Messages a gateway's channel takes. */
  sealed interface ToChannel extends FrameMessage permits Opened, ReplyFrame, Credit {}

  /** A gateway opens channel {@code channelId} to a node, writing frames of up to {@code maxFormat}. */
  record Open(long channelId, int maxFormat, ActorRef<ToChannel> channel) implements ToInbox {
    public Open {
      Objects.requireNonNull(channel, "channel");
    }
  }

  /** The node accepts: frames of {@code format} from now on, to {@code inbox}. */
  record Opened(long channelId, int format, ActorRef<ToInbox> inbox) implements ToChannel {
    public Opened {
      Objects.requireNonNull(inbox, "inbox");
    }
  }

  /**
   * Requests for one node. {@code repliesAcked}: reply frames the gateway has taken since its last
   * acknowledgement.
   */
  record RequestFrame(long channelId, int repliesAcked, List<Request> requests) implements ToInbox {
    public RequestFrame {
      requests = List.copyOf(requests);
    }
  }

  /**
   * One request: its correlation id, the replica ({@code model#replica}) it is for, what it is, and
   * the microseconds left until its deadline when it was written. The call's own deadline is
   * local to its JVM and is not written.
   */
  record Request(long id, int replica, long remainingMicros, InferCall call) {
    public Request {
      Objects.requireNonNull(call, "call");
    }
  }

  /** Answers for one gateway. {@code requestsAcked}: request frames the node has taken since its last acknowledgement. */
  record ReplyFrame(long channelId, int requestsAcked, List<Reply> replies) implements ToChannel {
    public ReplyFrame {
      replies = List.copyOf(replies);
    }
  }

  /** One answer, by correlation id. */
  record Reply(long id, InferReply reply) {
    public Reply {
      Objects.requireNonNull(reply, "reply");
    }
  }

  /** An acknowledgement of {@code frames} frames when no frame goes the other way to carry it. */
  record Credit(long channelId, int frames) implements ToInbox, ToChannel {}
}
