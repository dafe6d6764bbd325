package dev.shardserve.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TallyTest {
  @Test
  void mergingWorkers_addsTheirHistogramsAndCounts() {
    Tally a = new Tally();
    Tally b = new Tally();
    for (int i = 1; i <= 90; i++) {
      a.record(200, i * 100, i * 100); // 0.1 .. 9 ms
    }
    for (int i = 1; i <= 10; i++) {
      b.record(200, 100_000, 100_000); // ten at 100 ms
    }
    b.record(503, 5_000, 300);
    b.record(-1, 0, 0);
    a.sent = 95;
    b.sent = 7;

    LoadResult r = Tally.merge(List.of(a, b)).toResult("merged", 2);
    assertEquals(100, r.ok().getTotalCount());
    assertEquals(102, r.sent());
    assertEquals(Map.of(200, 100L, 503, 1L), r.byStatus());
    assertEquals(1, r.ioErrors());
    assertEquals(50.0, r.goodput());
    // the slowest tenth comes from the second worker only
    assertEquals(100.0, r.ms(r.ok(), 95), 0.1);
    assertEquals(5.0, r.ms(r.ok(), 50), 0.01);
    assertEquals(5.0, r.ms(r.refused(), 99), 0.01);
    assertEquals(0.3, r.ms(r.refusedService(), 99), 0.01);
  }

  @Test
  void anEmptyWindow_hasNoPercentiles() {
    LoadResult r = Tally.merge(List.of(new Tally(), new Tally())).toResult("empty", 1);
    assertEquals(0, r.total());
    assertEquals(Double.NaN, r.ms(r.ok(), 50));
  }
}
