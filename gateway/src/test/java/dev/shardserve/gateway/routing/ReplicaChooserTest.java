package dev.shardserve.gateway.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.api.Test;

class ReplicaChooserTest {
  long now = 1_000;

  @Test
  void leastOutstanding_wins() {
    ReplicaChooser c = new ReplicaChooser(() -> now, 5_000);
    c.started("m", 0);
    c.started("m", 0);
    c.started("m", 2);
    assertEquals(1, c.choose("m", 3, Set.of()));
    c.finished("m", 0);
    c.finished("m", 0);
    c.started("m", 1);
    assertEquals(0, c.choose("m", 3, Set.of()));
  }

  @Test
  void aFailedReplicaIsAvoided_untilItsTimeIsUp_orItAnswers() {
    ReplicaChooser c = new ReplicaChooser(() -> now, 5_000);
    c.failed("m", 0);
    assertTrue(c.avoided("m", 0));
    c.started("m", 1);
    c.started("m", 1);
    assertEquals(1, c.choose("m", 2, Set.of()), "busier, but not avoided");
    now += 5_000;
    assertFalse(c.avoided("m", 0));
    assertEquals(0, c.choose("m", 2, Set.of()));
    c.failed("m", 0);
    c.succeeded("m", 0);
    assertFalse(c.avoided("m", 0));
  }

  @Test
  void replicasOnLeavingNodes_areAvoided() {
    ReplicaChooser c = new ReplicaChooser(() -> now, 5_000);
    c.started("m", 1);
    c.started("m", 1);
    assertEquals(1, c.choose("m", 2, Set.of(), Set.of(0)));
  }

  @Test
  void aRetryGoesToAReplicaNotTriedYet_orBackWhenAllWere() {
    ReplicaChooser c = new ReplicaChooser(() -> now, 5_000);
    assertEquals(1, c.choose("m", 2, Set.of(0)));
    assertEquals(0, c.choose("m", 1, Set.of(0)), "one replica: retried on the same one");
    int r = c.choose("m", 2, Set.of(0, 1));
    assertTrue(r == 0 || r == 1);
  }
}
