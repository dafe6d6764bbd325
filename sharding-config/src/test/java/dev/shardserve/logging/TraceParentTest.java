package dev.shardserve.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class TraceParentTest {
  private static final String EXAMPLE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

  @Test
  void parse_specExample_readsEveryField() {
    TraceParent t = TraceParent.parse(EXAMPLE).orElseThrow();
    assertEquals("4bf92f3577b34da6a3ce929d0e0e4736", t.traceId());
    assertEquals("00f067aa0ba902b7", t.spanId());
    assertEquals(1, t.flags());
    assertTrue(t.sampled());
    assertEquals(EXAMPLE, t.header());
  }

  @Test
  void parse_surroundingWhitespace_isAccepted() {
    assertTrue(TraceParent.parse("  " + EXAMPLE + " ").isPresent());
  }

  @Test
  void parse_higherVersionWithMoreFields_readsTheKnownOnes() {
    TraceParent t = TraceParent.parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-what-comes-next")
        .orElseThrow();
    assertEquals("00f067aa0ba902b7", t.spanId());
    assertFalse(t.sampled());
    assertTrue(t.header().startsWith("00-"), "we always write version 00");
  }

  @ParameterizedTest
  @NullSource
  @ValueSource(strings = {
      "",
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",   // upper case
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",   // all-zero trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",   // all-zero span id
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // version ff
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", // version 00 with more
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",  // more without a dash
      "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",   // dash in the wrong place
      "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"})
  void parse_invalid_isEmpty(String header) {
    assertTrue(TraceParent.parse(header).isEmpty(), String.valueOf(header));
  }

  @Test
  void child_keepsTraceAndFlags_withANewSpan() {
    TraceParent parent = TraceParent.parse(EXAMPLE).orElseThrow();
    TraceParent child = parent.child();
    assertEquals(parent.traceId(), child.traceId());
    assertEquals(parent.flags(), child.flags());
    assertNotEquals(parent.spanId(), child.spanId());
    assertEquals(child, TraceParent.parse(child.header()).orElseThrow());
  }

  @Test
  void newRoot_isValidAndUnsampled() {
    TraceParent root = TraceParent.newRoot();
    assertEquals(root, TraceParent.parse(root.header()).orElseThrow());
    assertFalse(root.sampled());
    assertNotEquals(root.traceId(), TraceParent.newRoot().traceId());
  }

  @Test
  void constructor_badIds_nameTheValue() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new TraceParent("xyz", "00f067aa0ba902b7", 1));
    assertTrue(e.getMessage().contains("'xyz'"));
  }
}
