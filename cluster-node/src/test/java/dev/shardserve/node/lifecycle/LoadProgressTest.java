package dev.shardserve.node.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.shardserve.logging.LifecycleLog;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** A long load reports its phase every two seconds, on a fake clock; a quick one never does. */
class LoadProgressTest {
  private final AtomicLong now = new AtomicLong(1_000);
  private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
  private Logger logger;
  private Level before;

  @BeforeEach
  void capture() {
    logger = (Logger) LoggerFactory.getLogger(LifecycleLog.LOGGER);
    before = logger.getLevel();
    logger.setLevel(Level.INFO);
    lines.start();
    logger.addAppender(lines);
  }

  @AfterEach
  void release() {
    logger.detachAppender(lines);
    logger.setLevel(before);
  }

  private void advanceMillis(long ms) {
    now.addAndGet(ms * 1_000_000);
  }

  @Test
  void aLongLoad_reportsReadingThenWarmUpRuns_andStopsWhenFinished() {
    LoadProgress p = new LoadProgress(LifecycleLog.create(), "mlp", 3, now::get);
    advanceMillis(1_999);
    assertFalse(p.report(), "under two seconds: nothing to say yet");
    advanceMillis(1);
    assertTrue(p.report());
    assertEquals("event=version_load_progress model=mlp version=3 phase=reading done=0 total=0",
        lines.list.get(0).getFormattedMessage());
    p.phase("warming_up", 12);
    for (int i = 0; i < 5; i++) {
      p.step();
    }
    advanceMillis(2_000);
    assertTrue(p.report());
    assertEquals("event=version_load_progress model=mlp version=3 phase=warming_up done=5 total=12",
        lines.list.get(1).getFormattedMessage());
    p.finished();
    advanceMillis(2_000);
    assertFalse(p.report());
    assertEquals(2, lines.list.size());
  }

  @Test
  void aQuickLoad_writesNothing() {
    LoadProgress p = new LoadProgress(LifecycleLog.create(), "half_plus_two", 1, now::get);
    p.phase("warming_up", 2);
    p.step();
    p.step();
    p.finished();
    advanceMillis(5_000);
    assertFalse(p.report());
    assertTrue(lines.list.isEmpty());
  }
}
