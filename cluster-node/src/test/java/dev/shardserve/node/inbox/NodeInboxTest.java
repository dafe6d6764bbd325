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
}
