package dev.shardserve.gateway.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ByteBudgetTest {
  static final long MIB = 1 << 20;

  ByteBudget budget(long max, long unknown) {
    return new ByteBudget(new ByteBudget.Settings(max, unknown));
  }

  @Test
  void admitsUpToTheBudget_thenRefuses_untilReleased() {
    ByteBudget b = budget(10 * MIB, 8 * MIB);
    ByteBudget.Permit p1 = b.tryAcquire(OptionalLong.of(6 * MIB)).orElseThrow();
    ByteBudget.Permit p2 = b.tryAcquire(OptionalLong.of(4 * MIB)).orElseThrow();
    assertEquals(10 * MIB, b.inFlight());
    assertTrue(b.tryAcquire(OptionalLong.of(1)).isEmpty());
    p1.release();
    assertTrue(b.tryAcquire(OptionalLong.of(6 * MIB)).isPresent());
    p2.release();
  }

  @Test
  void unknownLength_isChargedTheConservativeBound() {
    ByteBudget b = budget(10 * MIB, 8 * MIB);
    ByteBudget.Permit chunked = b.tryAcquire(OptionalLong.empty()).orElseThrow();
    assertEquals(8 * MIB, chunked.bytes());
    assertTrue(b.tryAcquire(OptionalLong.empty()).isEmpty());
    assertTrue(b.refusal(OptionalLong.empty()).contains("unknown length"), b.refusal(OptionalLong.empty()));
  }

  @Test
  void bodyLargerThanTheBudget_runsAlone() {
    ByteBudget b = budget(4 * MIB, 8 * MIB);
    ByteBudget.Permit small = b.tryAcquire(OptionalLong.of(1)).orElseThrow();
    assertTrue(b.tryAcquire(OptionalLong.of(8 * MIB)).isEmpty(), "not while anything else is in flight");
    small.release();
    ByteBudget.Permit big = b.tryAcquire(OptionalLong.of(8 * MIB)).orElseThrow();
    assertTrue(b.tryAcquire(OptionalLong.of(1)).isEmpty(), "nothing joins an over-budget body");
    big.release();
    assertEquals(0, b.inFlight());
  }

  @Test
  void release_isIdempotent() {
    ByteBudget b = budget(10, 10);
    ByteBudget.Permit p = b.tryAcquire(OptionalLong.of(7)).orElseThrow();
    p.release();
    p.release();
    assertEquals(0, b.inFlight());
  }

  @Test
  void refusal_namesBothNumbers() {
    ByteBudget b = budget(10, 10);
    b.tryAcquire(OptionalLong.of(9));
    String m = b.refusal(OptionalLong.of(5));
    assertTrue(m.contains("9 bytes") && m.contains("budget of 10") && m.contains("5 bytes"), m);
  }

  @Test
  void manyThreads_neverExceedTheBudget_andAllIsReleased() throws Exception {
    ByteBudget b = budget(64 * MIB, 8 * MIB);
    AtomicLong peak = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    List<Future<Integer>> admitted = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      admitted.add(pool.submit(() -> {
        int n = 0;
        for (int i = 0; i < 20_000; i++) {
          Optional<ByteBudget.Permit> p = b.tryAcquire(OptionalLong.of(8 * MIB));
          if (p.isPresent()) {
            peak.accumulateAndGet(b.inFlight(), Math::max);
            n++;
            p.get().release();
          }
        }
        return n;
      }));
    }
    int total = 0;
    for (Future<Integer> f : admitted) {
      total += f.get(60, TimeUnit.SECONDS);
    }
    pool.shutdown();
    assertTrue(total > 0);
    assertTrue(peak.get() <= 64 * MIB, "peak " + peak.get());
    assertEquals(0, b.inFlight());
  }

  @Test
  void settings_autoIsA32ndOfTheHeap_andBadValuesNameTheKey() {
    var auto = ByteBudget.Settings.fromConfig(ConfigFactory.parseMap(Map.of("max-bytes-in-flight", 0)), 8 * MIB,
        256 * MIB);
    assertEquals(8 * MIB, auto.maxBytes());
    assertEquals(8 * MIB, auto.unknownLengthBytes());
    var set = ByteBudget.Settings.fromConfig(ConfigFactory.parseMap(Map.of("max-bytes-in-flight", "64 MiB")),
        MIB, 256 * MIB);
    assertEquals(64 * MIB, set.maxBytes());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ByteBudget.Settings.fromConfig(
        ConfigFactory.parseMap(Map.of("max-bytes-in-flight", -1)), MIB, MIB));
    assertTrue(e.getMessage().contains("max-bytes-in-flight"), e.getMessage());
    assertFalse(e.getMessage().isEmpty());
  }
}
