package dev.shardserve.node.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RuntimePoolTest {
  @Test
  void modelsTakeTurns_aDeepQueueDoesNotStarveAnother() throws Exception {
    RuntimePool pool = new RuntimePool(1, dev.shardserve.concurrent.Ticker.SYSTEM);
    try {
      CountDownLatch gate = new CountDownLatch(1);
      List<String> order = Collections.synchronizedList(new ArrayList<>());
      pool.submit("blocker", () -> {
        try {
          gate.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      for (int i = 0; i < 5; i++) {
        pool.submit("busy", () -> order.add("busy"));
      }
      pool.submit("quiet", () -> order.add("quiet"));
      CountDownLatch done = new CountDownLatch(1);
      pool.submit("busy", done::countDown);
      gate.countDown();
      assertTrue(done.await(10, TimeUnit.SECONDS));
      // one thread: busy's first batch, then quiet's turn, not after all of busy's
      assertEquals(List.of("busy", "quiet", "busy", "busy", "busy", "busy"), order);
      assertEquals(0, pool.queued());
    } finally {
      pool.shutdown();
    }
  }
}
