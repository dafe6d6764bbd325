package dev.shardserve.gateway.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The limiter wiring, on a fake clock. */
class AdmissionTest {
  long now = 0;

  Admission admission(int initial) {
    return new Admission(new Admission.Settings(true, initial, 2, 200), () -> now);
  }

  /** One round: as many requests as the limit admits, all answered after {@code latencyMillis}. */
  int round(Admission a, long latencyMillis) {
    List<Admission.Permit> permits = new ArrayList<>();
    for (Optional<Admission.Permit> p; (p = a.tryAcquire("m", 1)).isPresent(); ) {
      permits.add(p.get());
    }
    now += latencyMillis * 1_000_000L;
    permits.forEach(Admission.Permit::success);
    return permits.size();
  }

  @Test
  void overTheLimit_isRefusedAtOnce_andAReleasedPermitAdmitsAgain() {
    Admission a = admission(4);
    List<Admission.Permit> held = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      held.add(a.tryAcquire("m", 1).orElseThrow());
    }
    assertTrue(a.tryAcquire("m", 1).isEmpty(), "the fifth is over the limit of 4");
    assertTrue(a.tryAcquire("other", 1).isPresent(), "limits are per model");
    held.get(0).ignore();
    assertTrue(a.tryAcquire("m", 1).isPresent());
  }

  @Test
  void theLimitShrinksWhenLatencyRises() {
    Admission a = admission(20);
    for (int i = 0; i < 300; i++) {
      round(a, 1);
    }
    int steady = a.limit("m");
    // Gradient2 compares the latest latency with its long-term average (600 samples): the
    // limit falls in the first rounds after latency rises, before the average catches up.
    round(a, 40);
    round(a, 40);
    int congested = a.limit("m");
    assertTrue(congested < steady, "limit at steady latency " + steady + ", after latency rose " + congested);
  }

  @Test
  void dropsAndClientErrors_areReportedByStatus() {
    Admission a = admission(4);
    Admission.Permit p = a.tryAcquire("m", 1).orElseThrow();
    assertEquals(1, a.inflight("m"));
    p.completed(400);
    assertEquals(0, a.inflight("m"));
    a.tryAcquire("m", 1).orElseThrow().completed(503);
    assertEquals(0, a.inflight("m"));
  }

  @Test
  void full_refusesBeforeTheBody_onlyOnceTheModelIsAtItsLimit() {
    Admission a = admission(4);
    for (int i = 0; i < 3; i++) {
      a.tryAcquire("m", 1).orElseThrow();
    }
    assertTrue(!a.full("m", 1), "3 of 4 in flight: the body may be read");
    a.tryAcquire("m", 1).orElseThrow();
    assertTrue(a.full("m", 1), "4 of 4: refused before reading the body");
  }

  @Test
  void refusalsDownstream_lowerTheLimit_insteadOfRaisingIt() {
    Admission a = admission(100);
    int before = a.limit("m");
    for (int i = 0; i < 20; i++) {
      a.tryAcquire("m", 1).orElseThrow().dropped(); // a full queue answered 503 at once
    }
    int after = a.limit("m");
    assertTrue(after < before, "limit " + before + " before the drops, " + after + " after");
    assertTrue(after >= 2, "never below the floor: " + after);
  }

  @Test
  void theLearnedLimit_scalesWithTheReplicaCount_insteadOfStartingOver() {
    Admission a = admission(20);
    for (int i = 0; i < 300; i++) {
      round(a, 1);
    }
    int learned = a.limit("m");
    a.tryAcquire("m", 2).orElseThrow().ignore();
    assertEquals(learned * 2, a.limit("m"), "two replicas: twice what one learned");
    a.tryAcquire("m", 1).orElseThrow().ignore();
    assertEquals(learned, a.limit("m"));
  }
}
