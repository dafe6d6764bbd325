package dev.shardserve.node.repository;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HostedReplicasTest {
  @Test
  void hostedByModel_countsReplicaShardsPerModel_andIgnoresOtherShardIds() {
    assertEquals(Map.of("mlp", 2, "half_plus_two", 1),
        ModelCatalogPublisher.hostedByModel(Set.of("mlp#0", "mlp#1", "half_plus_two#1", "not-a-replica")));
  }
}
