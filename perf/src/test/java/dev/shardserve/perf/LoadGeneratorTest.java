package dev.shardserve.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class LoadGeneratorTest {
  static {
    // the JDK server reads this once; without it Nagle and delayed ACKs add 40 ms to small answers
    System.setProperty("sun.net.httpserver.nodelay", "true");
  }

  @Test
  void openLoopSchedule_isEvenlySpacedFromTheStart() {
    assertEquals(1_000L, LoadGenerator.intended(1_000L, 0, 100));
    assertEquals(1_000L + 10_000_000L, LoadGenerator.intended(1_000L, 1, 100));
    assertEquals(1_000L + 2_500_000_000L, LoadGenerator.intended(1_000L, 250, 100));
  }

  @Test
  void openLoop_countsAStalledServerAgainstEveryRequestDueDuringTheStall() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    CountDownLatch never = new CountDownLatch(1);
    AtomicInteger n = new AtomicInteger();
    server.createContext("/", exchange -> {
      exchange.getRequestBody().readAllBytes();
      if (n.incrementAndGet() == 5) {
        try {
          never.await(300, TimeUnit.MILLISECONDS); // the server stalls once, for 300 ms
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      exchange.sendResponseHeaders(200, 2);
      exchange.getResponseBody().write("{}".getBytes(StandardCharsets.UTF_8));
      exchange.close();
    });
    server.setExecutor(Executors.newSingleThreadExecutor());
    server.start();
    try {
      int port = server.getAddress().getPort();
      LoadGenerator g = new LoadGenerator(() -> new RawHttp("127.0.0.1", port, "POST", "/x",
          "{}".getBytes(StandardCharsets.UTF_8)));
      // one connection, 500/s: about 150 requests fall due during the stall
      LoadResult r = g.open("stall", 500, 1, 0, 1.0);
      long slow = r.ok().getCountBetweenValues(100_000, Long.MAX_VALUE / 2);
      // measured from the actual send, only the stalled request would be slow (coordinated omission)
      assertTrue(slow >= 50, "requests due during the stall count it: " + slow + " of " + r.ok().getTotalCount());
      assertTrue(r.ok().getMaxValue() >= 300_000, "the stalled request: " + r.ok().getMaxValue() + " µs");
    } finally {
      server.stop(0);
    }
  }

  @Test
  void windowBoundaries_areReportedOnceEach_inOrder() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      exchange.getRequestBody().readAllBytes();
      exchange.sendResponseHeaders(200, 2);
      exchange.getResponseBody().write("{}".getBytes(StandardCharsets.UTF_8));
      exchange.close();
    });
    server.start();
    try {
      int port = server.getAddress().getPort();
      List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
      long[] at = new long[2];
      LoadGenerator.Window w = new LoadGenerator.Window() {
        @Override
        public void opened() {
          at[0] = System.nanoTime();
          events.add("opened");
        }

        @Override
        public void closed() {
          at[1] = System.nanoTime();
          events.add("closed");
        }
      };
      long t0 = System.nanoTime();
      new LoadGenerator(() -> new RawHttp("127.0.0.1", port, "POST", "/x", new byte[0])).closed("w", 2, 0.2, 0.3, w);
      assertEquals(List.of("opened", "closed"), events);
      assertTrue(at[0] - t0 >= 200_000_000L, "opened after the 0.2 s warm-up");
      assertTrue(at[1] - t0 >= 500_000_000L, "closed after warm-up and window");
    } finally {
      server.stop(0);
    }
  }

  @Test
  void badSettings_areRefusedWithTheValue() {
    LoadGenerator g = new LoadGenerator(() -> null);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.open("x", 0, 1, 0, 1));
    assertTrue(e.getMessage().contains("was 0.0"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> g.closed("x", 0, 0, 1));
  }

  @Test
  void closedAndOpenLoops_countAnswersByStatus_overKeepAliveConnections() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    AtomicInteger n = new AtomicInteger();
    server.createContext("/", exchange -> {
      exchange.getRequestBody().readAllBytes();
      boolean refuse = n.incrementAndGet() % 4 == 0;
      byte[] body = (refuse ? "{\"error\":\"busy\"}" : "{\"ok\":1}").getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(refuse ? 503 : 200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.setExecutor(Executors.newFixedThreadPool(4));
    server.start();
    try {
      int port = server.getAddress().getPort();
      LoadGenerator g = new LoadGenerator(() -> new RawHttp("127.0.0.1", port, "POST", "/x",
          "{}".getBytes(StandardCharsets.UTF_8)));
      LoadResult closed = g.closed("closed", 4, 0.2, 0.5);
      assertTrue(closed.count(200) > 0 && closed.count(503) > 0, closed.statuses());
      assertEquals(0, closed.ioErrors());
      assertEquals(closed.count(200), closed.ok().getTotalCount());
      assertEquals(closed.count(503), closed.refused().getTotalCount());
      LoadResult open = g.open("open", 200, 4, 0.1, 0.5);
      long answered = open.count(200) + open.count(503);
      // never more than the schedule (200/s for 0.5 s, plus requests already due at the window's start)
      assertTrue(answered > 0 && answered <= 110, "at most about 100 in the window: " + open.statuses());
      assertTrue(Math.abs(answered - open.sent()) <= 4, "sent in the window " + open.sent() + ", answered "
          + answered);
    } finally {
      server.stop(0);
    }
  }
}
