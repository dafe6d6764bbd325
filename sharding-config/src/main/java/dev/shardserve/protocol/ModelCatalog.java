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

  /** The models one node's repository holds. */
  public record NodeModels(Set<String> models) implements WireMessage {
    public NodeModels {
      models = Set.copyOf(new TreeSet<>(models));
    }
  }
}
