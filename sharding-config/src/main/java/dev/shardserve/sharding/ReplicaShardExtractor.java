package dev.shardserve.sharding;

import akka.cluster.sharding.typed.ShardingEnvelope;
import akka.cluster.sharding.typed.ShardingMessageExtractor;
import dev.shardserve.protocol.ModelProtocol.Command;

/**
 * One shard per entity id ({@code model#replica}), so that shard allocation places replicas, not
 * hash buckets. Never change this function in a rolling update: nodes must agree on it.
 */
public final class ReplicaShardExtractor extends ShardingMessageExtractor<ShardingEnvelope<Command>, Command> {

  @Override
  public String entityId(ShardingEnvelope<Command> envelope) {
    return envelope.entityId();
  }

  @Override
  public String shardId(String entityId) {
    return entityId;
  }

  @Override
  public Command unwrapMessage(ShardingEnvelope<Command> envelope) {
    return envelope.message();
  }
}
