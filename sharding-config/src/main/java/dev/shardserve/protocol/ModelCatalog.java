package dev.shardserve.protocol;

import akka.cluster.ddata.Key;
import akka.cluster.ddata.LWWMap;
import akka.cluster.ddata.LWWMapKey;
import dev.shardserve.serialization.WireMessage;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which models exist, as Distributed Data: every worker node writes the model folders it finds in
 * its repository under its own unique address; the gateway reads the union over the nodes that
 * are still members. Only a model some node has is routed to a shard.
 */
public final class ModelCatalog {
  public static final Key<LWWMap<String, NodeModels>> KEY = LWWMapKey.create("shardserve-model-catalog");

  private ModelCatalog() {}

  /**
   * What one worker node publishes: the models it serves, the capacity it advertises for replica
   * placement (CPU slots for TensorFlow, GPUs and their memory), and the replicas ({@code model#r})
   * it hosts, as of its last poll.
   */
  public record NodeModels(Set<String> models, int cpuSlots, int gpus, long gpuMemoryMiB, Set<String> replicas)
      implements WireMessage {
    public NodeModels {
      models = Set.copyOf(new TreeSet<>(models));
      replicas = Set.copyOf(new TreeSet<>(replicas));
    }

    public NodeModels(Set<String> models) {
      this(models, 1, 0, 0, Set.of());
    }

    /**
     * The node's placement weight: its CPU slots, plus 4 per GPU (a GPU serves a batch several
     * times faster than a core). A node with twice the weight gets twice the replicas.
     */
    public double weight() {
      return Math.max(1, cpuSlots) + 4.0 * gpus;
    }
  }
}
