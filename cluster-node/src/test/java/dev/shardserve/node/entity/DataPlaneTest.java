package dev.shardserve.node.entity;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shardserve.concurrent.Ticker;
import dev.shardserve.dataplane.InferCall;
import dev.shardserve.desired.BatchingSpec;
import dev.shardserve.metrics.MetricsSettings;
import dev.shardserve.metrics.ShardServeMetrics;
import dev.shardserve.node.testing.MetricValues;
import dev.shardserve.node.batch.InferenceQueue;
import dev.shardserve.node.examples.HalfPlusTwoModel;
import dev.shardserve.node.runtime.LoadedModel;
import dev.shardserve.node.runtime.RuntimePool;
import dev.shardserve.node.runtime.SavedModelLoader;
import dev.shardserve.node.runtime.SessionSettings;
import dev.shardserve.node.testing.FixtureModels;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.InferReply;
import dev.shardserve.protocol.ModelProtocol.InferResult;
import dev.shardserve.protocol.Tensor;
import dev.shardserve.protocol.VersionSelector;
import java.nio.file.Path;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data plane without actors: a replica's handle, its queue and the runtime threads, on real
 * TensorFlow models. Every accepted request is answered exactly once, by one version, on every
 * path (swap, drain, abort, a racing close, an Error in a task), and a bad request in a batch
 * fails alone.
 */
class DataPlaneTest {
  @TempDir static Path dir;
  static RuntimePool pool;
  static final ShardServeMetrics metrics = ShardServeMetrics.create(MetricsSettings.DEFAULT);
  static final AtomicInteger names = new AtomicInteger();

  @BeforeAll
  static void start() {
    pool = new RuntimePool(2, Ticker.SYSTEM);
    HalfPlusTwoModel.write(dir.resolve("hpt/1"), 0.5f, 1f);
    HalfPlusTwoModel.write(dir.resolve("hpt/2"), 0.5f, 2f);
    FixtureModels.writeEmbedding(dir.resolve("embedding/1"));
  }

  @AfterAll
  static void stop() {
    pool.shutdown();
  }

  static LoadedModel load(String path, long version) {
    return SavedModelLoader.load(dir.resolve(path), version, SessionSettings.callingThread());
  }

  /** A table serving {@code models}, the newest answering requests that name no version. */
  static VersionTable serving(LoadedModel... models) {
    TreeMap<Long, LoadedModel> available = new TreeMap<>();
    for (LoadedModel m : models) {
      available.put(m.version(), m);
    }
    return new VersionTable("m", true, true, available, available.lastKey(), Map.of(), Set.of(), new TreeMap<>(),
        false);
  }

  record Replica(String name, LocalReplica handle, InferenceQueue queue) {}

  static Replica replica(BatchingSpec spec, VersionTable table) {
    return replica(spec, table, pool);
  }

  static Replica replica(BatchingSpec spec, VersionTable table, RuntimePool runtime) {
    String name = "dataplane-" + names.incrementAndGet();
    InferenceQueue queue = new InferenceQueue(name, 0, spec, runtime, metrics.model(name));
    LocalReplica handle = new LocalReplica(name, queue, Ticker.SYSTEM, 1 << 20,
        (call, reply) -> reply.accept(new Failure(ErrorCode.INTERNAL, "nothing should wait in this test")));
    handle.publish(table);
    return new Replica(name, handle, queue);
  }

  static InferCall.Predict predict(String input, Tensor t) {
    return new InferCall.Predict("m", VersionSelector.latest(), "serving_default", Map.of(input, t),
        System.nanoTime() + 30_000_000_000L);
  }

  /** Occupies every runtime thread until the latch is released. */
  static CountDownLatch holdRuntime() throws InterruptedException {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch held = new CountDownLatch(pool.threads());
    for (int i = 0; i < pool.threads(); i++) {
      pool.submit("hold-" + i, () -> {
        held.countDown();
        try {
          release.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
    }
    assertTrue(held.await(30, TimeUnit.SECONDS), "runtime threads held");
    return release;
  }

  /** Replies by request id; a second reply for the same id fails the test. */
  static final class Replies {
    final Map<Integer, InferReply> byId = new ConcurrentHashMap<>();
    final AtomicInteger duplicates = new AtomicInteger();

    java.util.function.Consumer<InferReply> to(int id) {
      return reply -> {
        if (byId.putIfAbsent(id, reply) != null) {
          duplicates.incrementAndGet();
        }
      };
    }

    void awaitAll(int n) {
      await().atMost(Duration.ofSeconds(30)).until(() -> byId.size() >= n);
      assertEquals(n, byId.size());
      assertEquals(0, duplicates.get(), "a request was answered twice");
    }
  }

  @Test
  void aBadIdInABatch_failsOnlyItsRequest_andItsNeighboursGetTheirRows() throws Exception {
    LoadedModel model = load("embedding/1", 1);
    Replica r = replica(new BatchingSpec(true, 64, 0, 1024, List.of(), 0, true), serving(model));
    Replies replies = new Replies();
    CountDownLatch release = holdRuntime(); // all 32 queue before a thread can take them: one batch
    long batchesBefore = MetricValues.batches(metrics, r.name());
    for (int id = 0; id < 32; id++) {
      int value = id == 17 ? 9 : id % 5; // request 17 asks for row 9 of a table of 5
      r.handle().submit(predict("ids", Tensor.ofInts(new long[] {1}, value)), replies.to(id));
    }
    release.countDown();
    replies.awaitAll(32);
    for (int id = 0; id < 32; id++) {
      InferReply reply = replies.byId.get(id);
      if (id == 17) {
        Failure f = assertInstanceOf(Failure.class, reply, reply::toString);
        assertEquals(ErrorCode.INVALID_INPUT, f.code());
        assertTrue(f.message().contains("9") && f.message().contains("[0, 5)"), f.message());
      } else {
        InferResult ok = assertInstanceOf(InferResult.class, reply, reply::toString);
        int row = id % 5;
        assertArrayEquals(new float[] {10 * row, 10 * row + 1}, ok.outputs().get("vectors").floats(), "request " + id);
      }
    }
    assertEquals(batchesBefore + 1, MetricValues.batches(metrics, r.name()), "the 32 ran as one batch (then bisected)");
    model.close();
    await().atMost(Duration.ofSeconds(10)).until(model::isFreed);
  }

  @Test
  void anErrorInARuntimeTask_answersEveryMember_andReleasesTheVersion() throws Exception {
    LoadedModel model = load("hpt/1", 1);
    Replica r = replica(new BatchingSpec(true, 64, 0, 1024, List.of(), 0, true), serving(model));
    Replies replies = new Replies();
    CountDownLatch release = holdRuntime();
    // Inputs whose every read throws an Error: the runtime thread meets it while writing the batch.
    Map<String, Tensor> poisoned = new AbstractMap<>() {
      @Override
      public Tensor get(Object key) {
        throw new AssertionError("injected failure");
      }

      @Override
      public Set<Entry<String, Tensor>> entrySet() {
        return Set.of(Map.entry("x", Tensor.ofFloats(new long[] {1}, 1f)));
      }
    };
    var sig = model.prepared("serving_default");
    record Key(String k) {}
    for (int id = 0; id < 5; id++) {
      assertTrue(model.acquire());
      InferCall call = predict("x", Tensor.ofFloats(new long[] {1}, id));
      Failure refused = r.queue().offer(new InferenceQueue.Pending(call, model, sig, replies.to(id), System.nanoTime()),
          new Key("poisoned"), id == 0 ? poisoned : Map.of("x", Tensor.ofFloats(new long[] {1}, id)), 1);
      assertEquals(null, refused);
    }
    release.countDown();
    replies.awaitAll(5);
    for (InferReply reply : replies.byId.values()) {
      Failure f = assertInstanceOf(Failure.class, reply, reply::toString);
      assertEquals(ErrorCode.INTERNAL, f.code());
      assertTrue(f.message().contains("injected failure"), f.message());
    }
    model.close();
    await().atMost(Duration.ofSeconds(10)).until(model::isFreed); // every reference was given back
    assertEquals(0, r.queue().queuedRequests());
    assertEquals(0, r.queue().running());
  }

  @Test
  void aVersionSwapUnderConcurrentSubmits_answersEachRequestOnce_byExactlyOneVersion() throws Exception {
    LoadedModel v1 = load("hpt/1", 1);
    LoadedModel v2 = load("hpt/2", 2);
    Replica r = replica(new BatchingSpec(true, 64, 0, 10_000, List.of(), 0, true), serving(v1));
    Replies replies = new Replies();
    int threads = 4;
    int perThread = 400;
    CountDownLatch halfway = new CountDownLatch(threads * perThread / 2);
    List<Thread> senders = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int base = t * perThread;
      Thread s = new Thread(() -> {
        for (int i = 0; i < perThread; i++) {
          r.handle().submit(predict("x", Tensor.ofFloats(new long[] {1}, 4f)), replies.to(base + i));
          halfway.countDown();
        }
      });
      senders.add(s);
      s.start();
    }
    assertTrue(halfway.await(30, TimeUnit.SECONDS));
    r.handle().publish(serving(v2)); // the actor's order: publish the new table, then close the old version
    v1.close();
    for (Thread s : senders) {
      s.join(30_000);
    }
    replies.awaitAll(threads * perThread);
    int byV1 = 0;
    int byV2 = 0;
    for (InferReply reply : replies.byId.values()) {
      InferResult ok = assertInstanceOf(InferResult.class, reply, reply::toString);
      float y = ok.outputs().get("y").floats()[0];
      assertEquals(ok.version() == 1 ? 3f : 4f, y, "y = 0.5 x + version, answered by version " + ok.version());
      if (ok.version() == 1) {
        byV1++;
      } else {
        byV2++;
      }
    }
    assertTrue(byV1 > 0 && byV2 > 0, "both versions answered: " + byV1 + " and " + byV2);
    await().atMost(Duration.ofSeconds(10)).until(v1::isFreed);
    v2.close();
  }

  @Test
  void aDrainWithAFullQueue_answersEveryAcceptedRequest_andRefusesNewOnesAsUnavailable() throws Exception {
    LoadedModel model = load("hpt/1", 1);
    Replica r = replica(new BatchingSpec(true, 4, 0, 10, List.of(), 0, true), serving(model));
    Replies replies = new Replies();
    CountDownLatch release = holdRuntime();
    for (int id = 0; id < 12; id++) { // 10 fit, 2 are refused OVERLOADED
      r.handle().submit(predict("x", Tensor.ofFloats(new long[] {1}, id)), replies.to(id));
    }
    CountDownLatch idle = new CountDownLatch(1);
    r.handle().close("draining");
    r.queue().close("draining", idle::countDown);
    for (int id = 12; id < 15; id++) {
      r.handle().submit(predict("x", Tensor.ofFloats(new long[] {1}, id)), replies.to(id));
    }
    assertEquals(1, idle.getCount(), "not idle while 10 requests wait");
    release.countDown();
    replies.awaitAll(15);
    assertTrue(idle.await(10, TimeUnit.SECONDS), "the drain completes once the queue is empty");
    for (int id = 0; id < 15; id++) {
      InferReply reply = replies.byId.get(id);
      if (id < 10) {
        InferResult ok = assertInstanceOf(InferResult.class, reply, reply::toString);
        assertEquals(0.5f * id + 1, ok.outputs().get("y").floats()[0]);
      } else {
        Failure f = assertInstanceOf(Failure.class, reply, reply::toString);
        assertEquals(id < 12 ? ErrorCode.OVERLOADED : ErrorCode.UNAVAILABLE, f.code(), f.message());
      }
    }
    model.close();
    await().atMost(Duration.ofSeconds(10)).until(model::isFreed);
  }

  @Test
  void anAbortWithABatchInFlight_answersTheWaitingUnavailable_andLetsTheRunningBatchFinish() throws Exception {
    LoadedModel model = load("hpt/1", 1);
    RuntimePool oneThread = new RuntimePool(1, Ticker.SYSTEM); // its one thread is busy with the batch in flight
    Replica r = replica(new BatchingSpec(true, 1, 0, 100, List.of(), 1, true), serving(model), oneThread);
    Replies replies = new Replies();
    CountDownLatch inFlight = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    AtomicReference<InferReply> first = new AtomicReference<>();
    // Request 0's answer is delivered on the runtime thread: holding it there keeps its batch in flight.
    r.handle().submit(predict("x", Tensor.ofFloats(new long[] {1}, 2f)), reply -> {
      first.set(reply);
      inFlight.countDown();
      try {
        finish.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    assertTrue(inFlight.await(30, TimeUnit.SECONDS));
    for (int id = 1; id <= 5; id++) { // these wait: the only runtime thread is delivering request 0
      r.handle().submit(predict("x", Tensor.ofFloats(new long[] {1}, id)), replies.to(id));
    }
    r.handle().close("restarted");
    r.queue().abort("restarted");
    model.close(); // the replica releases its versions; the batch in flight still holds its reference
    assertTrue(!model.isFreed(), "not freed under a running batch");
    replies.awaitAll(5);
    for (InferReply reply : replies.byId.values()) {
      assertEquals(ErrorCode.UNAVAILABLE, assertInstanceOf(Failure.class, reply).code());
    }
    finish.countDown();
    await().atMost(Duration.ofSeconds(10)).until(model::isFreed);
    assertEquals(2f, assertInstanceOf(InferResult.class, first.get()).outputs().get("y").floats()[0]); // 0.5 x + 1
    oneThread.shutdown();
  }

  @Test
  void aSubmitRacingAClose_getsExactlyOneAnswer_successOrUnavailable() throws Exception {
    LoadedModel model = load("hpt/1", 1);
    Replica r = replica(BatchingSpec.DEFAULT, serving(model));
    Replies replies = new Replies();
    int threads = 4;
    int perThread = 300;
    CountDownLatch started = new CountDownLatch(threads * 50);
    List<Thread> senders = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int base = t * perThread;
      Thread s = new Thread(() -> {
        for (int i = 0; i < perThread; i++) {
          r.handle().submit(predict("x", Tensor.ofFloats(new long[] {1}, 1f)), replies.to(base + i));
          started.countDown();
        }
      });
      senders.add(s);
      s.start();
    }
    assertTrue(started.await(30, TimeUnit.SECONDS));
    r.handle().close("stopping");
    r.queue().close("stopping", () -> { });
    for (Thread s : senders) {
      s.join(30_000);
    }
    replies.awaitAll(threads * perThread);
    int ok = 0;
    int unavailable = 0;
    for (InferReply reply : replies.byId.values()) {
      if (reply instanceof InferResult) {
        ok++;
      } else {
        assertEquals(ErrorCode.UNAVAILABLE, ((Failure) reply).code(), reply.toString());
        unavailable++;
      }
    }
    assertTrue(ok > 0 && unavailable > 0, ok + " answered, " + unavailable + " refused");
    model.close();
    await().atMost(Duration.ofSeconds(10)).until(model::isFreed);
  }
}
