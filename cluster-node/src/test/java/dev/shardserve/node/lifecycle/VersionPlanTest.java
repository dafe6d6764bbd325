package dev.shardserve.node.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.shardserve.node.lifecycle.VersionPlan.Held;
import dev.shardserve.protocol.ModelProtocol.VersionState;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class VersionPlanTest {
  private static TreeSet<Long> set(Long... v) {
    return new TreeSet<>(Set.of(v));
  }

  private static Map<Long, Held> held(Object... pairs) {
    Map<Long, Held> m = new HashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      m.put(((Number) pairs[i]).longValue(), new Held((VersionState) pairs[i + 1], false));
    }
    return m;
  }

  @Test
  void newVersion_isLoaded_oldOneKeptUntilTheNewIsAvailable() {
    VersionPlan.Steps s = VersionPlan.plan(set(2L), set(1L, 2L), held(1, VersionState.AVAILABLE), false);
    assertEquals(2L, s.load());
    assertEquals(Set.of(), s.retire());
    s = VersionPlan.plan(set(2L), set(1L, 2L), held(1, VersionState.AVAILABLE, 2, VersionState.LOADING), true);
    assertNull(s.load());
    assertEquals(Set.of(), s.retire());
    s = VersionPlan.plan(set(2L), set(1L, 2L), held(1, VersionState.AVAILABLE, 2, VersionState.AVAILABLE), false);
    assertEquals(Set.of(1L), s.retire());
  }

  @Test
  void failedNewVersion_leavesTheOldOneServing_andIsRetriedOnlyWhenDue() {
    Map<Long, Held> h = held(1, VersionState.AVAILABLE);
    h.put(2L, new Held(VersionState.END, false));
    VersionPlan.Steps s = VersionPlan.plan(set(2L), set(1L, 2L), h, false);
    assertNull(s.load());
    assertEquals(Set.of(), s.retire());
    h.put(2L, new Held(VersionState.END, true));
    assertEquals(2L, VersionPlan.plan(set(2L), set(1L, 2L), h, false).load());
  }

  @Test
  void deletedVersion_isRetiredAtOnce_andForgottenOnceEnded() {
    VersionPlan.Steps s = VersionPlan.plan(set(), set(), held(1, VersionState.AVAILABLE), false);
    assertEquals(Set.of(1L), s.retire());
    s = VersionPlan.plan(set(), set(), held(1, VersionState.END), false);
    assertEquals(Set.of(1L), s.forget());
  }

  @Test
  void newestWantedLoadsFirst_oneAtATime() {
    VersionPlan.Steps s = VersionPlan.plan(set(1L, 2L, 3L), set(1L, 2L, 3L), held(), false);
    assertEquals(3L, s.load());
    s = VersionPlan.plan(set(1L, 2L, 3L), set(1L, 2L, 3L), held(3, VersionState.AVAILABLE), false);
    assertEquals(2L, s.load());
  }

  @Test
  void rollbackToAnUnloadedVersion_loadsIt_thenRetiresTheNewer() {
    Map<Long, Held> h = held(2, VersionState.AVAILABLE);
    h.put(1L, new Held(VersionState.END, true)); // unloaded earlier, no error: loadable again
    VersionPlan.Steps s = VersionPlan.plan(set(1L), set(1L, 2L), h, false);
    assertEquals(1L, s.load());
    assertEquals(Set.of(), s.retire());
    s = VersionPlan.plan(set(1L), set(1L, 2L), held(1, VersionState.AVAILABLE, 2, VersionState.AVAILABLE), false);
    assertEquals(Set.of(2L), s.retire());
  }
}
