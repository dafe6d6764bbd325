package dev.shardserve.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

class LifecycleLogTest {
  private final LifecycleLog lifecycle = LifecycleLog.create();

  @Test
  void versionLoaded_isOneLineWithItsFieldsInMessageAndMdc() {
    try (CapturedLines lines = new CapturedLines(LifecycleLog.LOGGER)) {
      lifecycle.versionLoaded("mlp", 3, Duration.ofMillis(812));
      ILoggingEvent e = lines.only();
      assertEquals(Level.INFO, e.getLevel());
      assertEquals("event=version_loaded model=mlp version=3 duration_ms=812", e.getFormattedMessage());
      assertEquals("version_loaded", e.getMDCPropertyMap().get("event"));
      assertEquals("mlp", e.getMDCPropertyMap().get("model"));
      assertEquals("812", e.getMDCPropertyMap().get("duration_ms"));
    }
  }

  @Test
  void loadFailed_isAWarning_andTheErrorIsQuotedAndCleaned() {
    try (CapturedLines lines = new CapturedLines(LifecycleLog.LOGGER)) {
      lifecycle.versionLoadFailed("mlp", 4, "bad \"graph\"\nforged=line");
      ILoggingEvent e = lines.only();
      assertEquals(Level.WARN, e.getLevel());
      assertEquals("event=version_load_failed model=mlp version=4 error=\"bad \\\"graph\\\"?forged=line\"",
          e.getFormattedMessage());
    }
  }

  @Test
  void everyEvent_restoresTheCallersMdc() {
    MDC.put(MdcKeys.REQUEST_ID, "outer");
    try (CapturedLines lines = new CapturedLines(LifecycleLog.LOGGER)) {
      lifecycle.versionLoading("mlp", 1);
      lifecycle.versionLoadProgress("mlp", 1, "warming_up", 2, 3);
      lifecycle.versionSwapped("mlp", -1, 1);
      lifecycle.versionRetired("mlp", 0);
      lifecycle.drainStarted("akka://shardserve@127.0.0.1:25521", "admin API");
      lifecycle.drainFinished("akka://shardserve@127.0.0.1:25521", Duration.ofSeconds(3));
      lifecycle.nodeJoined("akka://shardserve@127.0.0.1:25521", Set.of("worker"));
      lifecycle.nodeLeaving("akka://shardserve@127.0.0.1:25521", Set.of("worker"));
      lifecycle.nodeDowned("akka://shardserve@127.0.0.1:25521", Set.of("worker"));
      lifecycle.nodeLeft("akka://shardserve@127.0.0.1:25521", Set.of("worker", "gateway"), "exiting");
      lifecycle.nodeUnreachable("akka://shardserve@127.0.0.1:25521", Set.of());
      lifecycle.nodeReachable("akka://shardserve@127.0.0.1:25521", Set.of());
      assertEquals(12, lines.events().size());
      assertEquals("event=version_load_progress model=mlp version=1 phase=warming_up done=2 total=3",
          lines.events().get(1).getFormattedMessage());
      assertEquals("event=version_swapped model=mlp from_version=\"\" to_version=1",
          lines.events().get(2).getFormattedMessage());
      assertEquals("outer", lines.events().get(0).getMDCPropertyMap().get(MdcKeys.REQUEST_ID));
      assertEquals("outer", MDC.get(MdcKeys.REQUEST_ID));
      assertNull(MDC.get(MdcKeys.EVENT));
    } finally {
      MDC.clear();
    }
  }
}
