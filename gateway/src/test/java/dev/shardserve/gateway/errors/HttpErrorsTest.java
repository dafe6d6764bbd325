package dev.shardserve.gateway.errors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.http.javadsl.model.HttpResponse;
import dev.shardserve.protocol.ErrorCode;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class HttpErrorsTest {
  @Test
  void everyCode_mapsToAClientOrServerStatus_retriableOnesWithRetryAfter() {
    for (ErrorCode c : ErrorCode.values()) {
      HttpResponse r = HttpErrors.of(c, "m");
      int status = r.status().intValue();
      assertTrue(status >= 400 && status < 600, c + " -> " + status);
      assertEquals(c.retriable(), r.getHeader("Retry-After").isPresent(), c.toString());
    }
    assertEquals(404, HttpErrors.status(ErrorCode.MODEL_NOT_FOUND).intValue());
    assertEquals(400, HttpErrors.status(ErrorCode.INVALID_INPUT).intValue());
    assertEquals(504, HttpErrors.status(ErrorCode.DEADLINE_EXCEEDED).intValue());
    assertEquals(503, HttpErrors.status(ErrorCode.OVERLOADED).intValue());
    assertFalse(HttpErrors.of(ErrorCode.INVALID_INPUT, "x").getHeader("Retry-After").isPresent());
  }

  @Test
  void body_isJsonWithEscapedMessage() {
    assertEquals("{\"error\":\"a \\\"quoted\\\" \\n message\"}",
        new String(HttpErrors.body("a \"quoted\" \n message"), StandardCharsets.UTF_8));
  }
}
