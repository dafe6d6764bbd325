package dev.shardserve.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.spi.ILoggingEvent;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.metrics.Api;
import dev.shardserve.metrics.Protocol;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class AccessLogTest {
  private static final RequestContext CONTEXT =
      RequestContext.fromHeaders("req-7", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");

  private static AccessLog log(boolean enabled, double rate, double... draws) {
    AtomicInteger i = new AtomicInteger();
    return new AccessLog(new AccessLog.Settings(enabled, rate), LoggerFactory.getLogger(AccessLog.LOGGER),
        () -> draws[i.getAndIncrement() % draws.length]);
  }

  @Test
  void off_writesNothing() {
    try (CapturedLines lines = new CapturedLines(AccessLog.LOGGER)) {
      log(false, 1.0, 0.0).requestAnswered("mlp", 1, Protocol.REST_V1, Api.PREDICT, 200, 1_000_000, 10, 20, CONTEXT);
      assertTrue(lines.events().isEmpty());
    }
  }

  @Test
  void on_writesTheAnswersFieldsAndNothingElse() {
    try (CapturedLines lines = new CapturedLines(AccessLog.LOGGER)) {
      log(true, 1.0, 0.5).requestAnswered("mlp", 3, Protocol.REST_V1, Api.PREDICT, 200, 1_234_567, 120, 45, CONTEXT);
      ILoggingEvent e = lines.only();
      assertEquals("event=access model=mlp version=3 protocol=rest_v1 api=predict status=200 duration_ms=1.235 "
          + "request_bytes=120 response_bytes=45 request_id=req-7 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id="
          + CONTEXT.trace().spanId(), e.getFormattedMessage());
      Map<String, String> mdc = e.getMDCPropertyMap();
      assertEquals("req-7", mdc.get("request_id"));
      assertEquals("200", mdc.get("status"));
      assertEquals(12, mdc.size());
    }
  }

  @Test
  void grpc_statusIsTheCodeName() {
    try (CapturedLines lines = new CapturedLines(AccessLog.LOGGER)) {
      log(true, 1.0, 0.5).requestAnswered("mlp", -1, Protocol.GRPC, Api.PREDICT, 8, 1, 1, 1, CONTEXT);
      assertEquals("RESOURCE_EXHAUSTED", lines.only().getMDCPropertyMap().get("status"));
      assertEquals("", lines.only().getMDCPropertyMap().get("version"));
    }
  }

  @Test
  void sampled_writesOnlyDrawsBelowTheRate() {
    try (CapturedLines lines = new CapturedLines(AccessLog.LOGGER)) {
      AccessLog sampled = log(true, 0.25, 0.1, 0.3, 0.24, 0.9);
      for (int i = 0; i < 4; i++) {
        sampled.requestAnswered("mlp", 1, Protocol.REST_V1, Api.PREDICT, 200, 1, 1, 1, CONTEXT);
      }
      assertEquals(2, lines.events().size());
    }
  }

  @Test
  void unknownModelName_isCleanedOfControlCharacters() {
    try (CapturedLines lines = new CapturedLines(AccessLog.LOGGER)) {
      log(true, 1.0, 0.5).requestAnswered("evil\nevent=forged", -1, Protocol.REST_V1, Api.PREDICT, 404, 1, 1, 1,
          CONTEXT);
      String message = lines.only().getFormattedMessage();
      assertFalse(message.contains("\n"));
      assertTrue(message.startsWith("event=access model=\"evil?event=forged\""), message);
    }
  }

  @Test
  void settings_fromReferenceConfig_areOffWithOnePercent() {
    AccessLog.Settings s = AccessLog.Settings.fromConfig(
        ConfigFactory.load().getConfig("shardserve.logging.access-log"));
    assertFalse(s.enabled());
    assertEquals(0.01, s.sampleRate());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new AccessLog.Settings(true, 0));
    assertTrue(e.getMessage().contains("sample-rate") && e.getMessage().contains("0.0"));
  }
}
