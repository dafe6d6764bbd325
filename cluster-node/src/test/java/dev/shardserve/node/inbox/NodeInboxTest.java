package dev.shardserve.node.inbox;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.channel.ChannelProtocol;
import dev.shardserve.channel.ChannelProtocol.Open;
import dev.shardserve.channel.ChannelProtocol.Opened;
import dev.shardserve.channel.ChannelProtocol.Request;
import dev.shardserve.channel.ChannelProtocol.RequestFrame;
import dev.shardserve.channel.ChannelProtocol.ToChannel;
import dev.shardserve.dataplane.InferCall;
import dev.shardserve.dataplane.ReplicaHandle;
import dev.shardserve.dataplane.ReplicaHandles;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.ModelProtocol.InferReply;
import dev.shardserve.protocol.ModelProtocol.InferResult;
import dev.shardserve.protocol.VersionSelector;
import dev.shardserve.settings.ShardServeConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A node's end of the gateway channels. */
class NodeInboxTest {
  static ActorTestKit testKit;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create("NodeInboxTest", ConfigFactory.parseString(
        "akka.remote.artery.canonical.port = 0\nakka.cluster.roles = [worker]\n").withFallback(ShardServeConfig.load()));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  /** A replica in this JVM that counts the requests submitted to it and answers each. */
  record Counting(AtomicInteger calls) implements ReplicaHandle {
    @Override
    public void submit(InferCall call, Consumer<InferReply> reply) {
      calls.incrementAndGet();
      reply.accept(new InferResult(1, Map.of()));
    }

    @Override
    public Map<String, DType> inputTypes(String signature) {
      return null;
    }
  }

  @Test
  void aFrameOnAChannelReportedTerminated_reopensIt_andItsRequestsAreServed() {
    Counting replica = new Counting(new AtomicInteger());
    ReplicaHandles.get(testKit.system()).publish("m", 0, replica);
    ActorRef<Object> inbox = testKit.spawn(NodeInbox.create(new NodeInbox.Settings(64, 1 << 20)));
    TestProbe<ToChannel> probe = testKit.createTestProbe();
    ActorRef<ToChannel> end = testKit.spawn(Behaviors.receiveMessage(m -> {
      probe.ref().tell(m);
      return Behaviors.same();
    }));
    inbox.tell(new Open(7L, ChannelProtocol.FORMAT, end));
    assertEquals(7L, probe.expectMessageClass(Opened.class).channelId());

    // The inbox sees the channel's end terminated (as Akka reports a gateway restarted at the
    // address of a removed node before this node has seen it join), yet a frame comes on it.
    testKit.stop(end);
    InferCall call = new InferCall.Predict("m", VersionSelector.latest(), "serving_default", Map.of(),
        System.nanoTime() + 10_000_000_000L);
    inbox.tell(new RequestFrame(7L, 0, List.of(new Request(1L, 0, 10_000_000L, call))));
    await().atMost(Duration.ofSeconds(10)).until(() -> replica.calls().get() == 1);

    // A frame on a channel this node never knew of is still dropped (nothing to answer it with);
    // a last frame to another replica marks when the inbox has handled both.
    Counting marker = new Counting(new AtomicInteger());
    ReplicaHandles.get(testKit.system()).publish("m", 1, marker);
    inbox.tell(new RequestFrame(8L, 0, List.of(new Request(2L, 0, 10_000_000L, call))));
    inbox.tell(new RequestFrame(7L, 0, List.of(new Request(3L, 1, 10_000_000L, call))));
    await().atMost(Duration.ofSeconds(10)).until(() -> marker.calls().get() == 1);
    assertEquals(1, replica.calls().get(), "the frame on the unknown channel was dropped");
  }

  /** A replica that keeps each request's answer callback, to answer it later. */
  record Deferred(java.util.concurrent.ConcurrentLinkedQueue<Consumer<InferReply>> pending) implements ReplicaHandle {
    @Override
    public void submit(InferCall call, Consumer<InferReply> reply) {
      pending.add(reply);
    }

    @Override
    public Map<String, DType> inputTypes(String signature) {
      return null;
    }
  }

  @Test
  void anAnswerThatBecomesReadyWhileItsChannelIsClosed_leavesWhenAFrameReopensIt() {
    Deferred slow = new Deferred(new java.util.concurrent.ConcurrentLinkedQueue<>());
    ReplicaHandles.get(testKit.system()).publish("slow", 0, slow);
    Counting fast = new Counting(new AtomicInteger());
    ReplicaHandles.get(testKit.system()).publish("fast", 0, fast);
    ActorRef<Object> inbox = testKit.spawn(NodeInbox.create(new NodeInbox.Settings(64, 1 << 20)));
    TestProbe<ToChannel> probe = testKit.createTestProbe();
    ActorRef<ToChannel> end = testKit.spawn(Behaviors.receiveMessage(m -> {
      probe.ref().tell(m);
      return Behaviors.same();
    }));
    inbox.tell(new Open(9L, ChannelProtocol.FORMAT, end));
    probe.expectMessageClass(Opened.class);
    long deadline = System.nanoTime() + 10_000_000_000L;
    inbox.tell(new RequestFrame(9L, 0, List.of(new Request(1L, 0, 10_000_000L, new InferCall.Predict("slow",
        VersionSelector.latest(), "serving_default", Map.of(), deadline)))));
    await().atMost(Duration.ofSeconds(10)).until(() -> slow.pending().size() == 1);

    // The end is reported terminated; the answer of request 1 becomes ready meanwhile; then a frame
    // comes on the channel. The re-opened channel must send that answer (here to the end the inbox
    // knows, which is gone: the reply frame shows up as a dead letter).
    TestProbe<akka.actor.DeadLetter> dead = testKit.createTestProbe();
    testKit.system().eventStream().tell(new akka.actor.typed.eventstream.EventStream.Subscribe<>(
        akka.actor.DeadLetter.class, dead.ref()));
    // Subscribing is asynchronous: a dead letter of our own, seen by the probe, says it is in place.
    akka.actor.ActorRef nobody = akka.actor.typed.javadsl.Adapter.toClassic(probe.ref());
    testKit.system().eventStream().tell(new akka.actor.typed.eventstream.EventStream.Publish<>(
        new akka.actor.DeadLetter("subscribed", nobody, nobody)));
    dead.fishForMessage(Duration.ofSeconds(10), d -> "subscribed".equals(d.message())
        ? akka.actor.testkit.typed.javadsl.FishingOutcomes.complete()
        : akka.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore());
    testKit.stop(end);
    slow.pending().poll().accept(new InferResult(1, Map.of()));
    inbox.tell(new RequestFrame(9L, 0, List.of(new Request(2L, 0, 10_000_000L, new InferCall.Predict("fast",
        VersionSelector.latest(), "serving_default", Map.of(), deadline)))));
    java.util.Set<Long> sent = new java.util.HashSet<>();
    dead.fishForMessage(Duration.ofSeconds(10), d -> {
      if (d.message() instanceof ChannelProtocol.ReplyFrame f && f.channelId() == 9L) {
        f.replies().forEach(r -> sent.add(r.id()));
      }
      return sent.contains(1L) && sent.contains(2L) ? akka.actor.testkit.typed.javadsl.FishingOutcomes.complete()
          : akka.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore();
    });
  }
}
