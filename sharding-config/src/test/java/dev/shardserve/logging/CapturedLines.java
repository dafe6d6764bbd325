package dev.shardserve.logging;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/** Captures the events of one Logback logger (at INFO) until closed. */
final class CapturedLines implements AutoCloseable {
  private final Logger logger;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
  private final ch.qos.logback.classic.Level before;

  CapturedLines(String loggerName) {
    logger = (Logger) LoggerFactory.getLogger(loggerName);
    before = logger.getLevel();
    logger.setLevel(ch.qos.logback.classic.Level.INFO);
    appender.start();
    logger.addAppender(appender);
  }

  List<ILoggingEvent> events() {
    return appender.list;
  }

  ILoggingEvent only() {
    if (appender.list.size() != 1) {
      throw new AssertionError("expected one line, got " + appender.list.size() + ": " + appender.list);
    }
    return appender.list.get(0);
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
    logger.setLevel(before);
  }
}
