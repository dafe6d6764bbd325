package dev.shardserve.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

class RequestContextTest {
  private static final String PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

  @Test
  void requestId_safeHeader_isKept() {
    assertEquals("3f2b6c1e-9d4a-4e2b-8c77-0a1b2c3d4e5f",
        RequestId.fromHeader("3f2b6c1e-9d4a-4e2b-8c77-0a1b2c3d4e5f").value());
  }

  @Test
  void requestId_absentOrUnsafe_isGenerated() {
    for (String header : new String[] {null, "", "has space", "new\nline", "x".repeat(129), "<script>"}) {
      String id = RequestId.fromHeader(header).value();
      assertTrue(id.matches("[0-9a-f]{32}"), header + " -> " + id);
    }
    assertNotEquals(RequestId.generate(), RequestId.generate());
  }

  @Test
  void requestId_constructor_rejectsUnsafeValues() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new RequestId("a b"));
    assertTrue(e.getMessage().contains("'a b'"));
  }

  @Test
  void fromHeaders_withParent_isAChildSpanOfTheCallersTrace() {
    RequestContext c = RequestContext.fromHeaders("req-1", PARENT);
    assertEquals("req-1", c.requestId().value());
    assertEquals("4bf92f3577b34da6a3ce929d0e0e4736", c.trace().traceId());
    assertNotEquals("00f067aa0ba902b7", c.trace().spanId());
    assertEquals(c.trace().header(), c.forwardedTraceParent());
  }

  @Test
  void fromHeaders_nodeSide_continuesTheGatewaysTrace() {
    RequestContext gateway = RequestContext.fromHeaders(null, null);
    RequestContext node = RequestContext.fromHeaders(gateway.requestId().value(), gateway.forwardedTraceParent());
    assertEquals(gateway.requestId(), node.requestId());
    assertEquals(gateway.trace().traceId(), node.trace().traceId());
    assertNotEquals(gateway.trace().spanId(), node.trace().spanId());
  }

  @Test
  void fromHeaders_invalidTraceparent_startsANewTrace() {
    RequestContext c = RequestContext.fromHeaders(null, "garbage");
    assertTrue(c.trace().traceId().matches("[0-9a-f]{32}"));
  }

  @Test
  void mdc_putsTheIdsUntilClosed() {
    RequestContext c = RequestContext.fromHeaders("req-2", PARENT);
    try (RequestContext.Scope scope = c.mdc()) {
      assertEquals("req-2", MDC.get(MdcKeys.REQUEST_ID));
      assertEquals(c.trace().traceId(), MDC.get(MdcKeys.TRACE_ID));
      assertEquals(c.trace().spanId(), MDC.get(MdcKeys.SPAN_ID));
    }
    assertNull(MDC.get(MdcKeys.REQUEST_ID));
    assertNull(MDC.get(MdcKeys.TRACE_ID));
  }
}
