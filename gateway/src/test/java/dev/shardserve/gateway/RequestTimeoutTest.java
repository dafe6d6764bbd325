package dev.shardserve.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The REST APIs' one rule for a request's time budget, and the message a bad header gets. */
class RequestTimeoutTest {
  private static final GatewaySettings SETTINGS = new GatewaySettings("127.0.0.1", 0, 1 << 20, 1 << 20,
      Duration.ofSeconds(30), Duration.ofSeconds(300), Duration.ofSeconds(5), "127.0.0.1", 0);

  @Test
  void theHeader_elseTheModelsTimeout_cappedAtTheMax_elseTheDefault() {
    assertEquals(1500, RequestTimeout.millis(" 1500 ", 10_000, SETTINGS));
    assertEquals(300_000, RequestTimeout.millis("300000", 0, SETTINGS));
    assertEquals(10_000, RequestTimeout.millis(null, 10_000, SETTINGS));
    assertEquals(300_000, RequestTimeout.millis(null, 900_000, SETTINGS));
    assertEquals(30_000, RequestTimeout.millis(null, 0, SETTINGS));
  }

  @Test
  void aBadHeader_isRefused_namingTheRangeAndTheValue() {
    for (String value : new String[] {"0", "-5", "300001", "99999999999999999999", "abc", "", "1.5"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> RequestTimeout.millis(value, 10_000, SETTINGS), value);
      assertEquals("X-Request-Timeout-Ms must be a whole number of milliseconds from 1 to 300000, was '" + value + "'",
          e.getMessage());
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> RequestTimeout.millis(" -5 ", 0, SETTINGS));
    assertEquals("X-Request-Timeout-Ms must be a whole number of milliseconds from 1 to 300000, was '-5'",
        e.getMessage(), "the value is quoted trimmed, as before");
  }
}
