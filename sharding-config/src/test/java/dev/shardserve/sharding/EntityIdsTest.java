package dev.shardserve.sharding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class EntityIdsTest {
  @Test
  void entityId_isModelHashReplica_andParsesBack() {
    String id = EntityIds.of("half_plus_two", 1);
    assertEquals("half_plus_two#1", id);
    assertEquals("half_plus_two", EntityIds.model(id));
    assertEquals(1, EntityIds.replica(id));
    assertEquals(id, new ReplicaShardExtractor().shardId(id));
  }

  @Test
  void malformedEntityIds_areRejected() {
    assertThrows(IllegalArgumentException.class, () -> EntityIds.model("nohash"));
    assertThrows(IllegalArgumentException.class, () -> EntityIds.replica("m#x"));
    assertThrows(IllegalArgumentException.class, () -> EntityIds.of("a/b", 0));
    assertThrows(IllegalArgumentException.class, () -> EntityIds.of("m", -1));
  }
}
