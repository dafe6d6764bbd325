package dev.shardserve.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class LoadGeneratorTest {
  @Test
  void openLoopSchedule_isEvenlySpacedFromTheStart() {
    assertEquals(1_000L, LoadGenerator.intended(1_000L, 0, 100));
    assertEquals(1_000L + 10_000_000L, LoadGenerator.intended(1_000L, 1, 100));
    assertEquals(1_000L + 2_500_000_000L, LoadGenerator.intended(1_000L, 250, 100));
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
      assertEquals(answered, open.sent());
    } finally {
      server.stop(0);
    }
  }
}
