package dev.shardserve.sharding;

import dev.shardserve.protocol.ModelName;

/**
 * The entity-id scheme: replica {@code r} of model {@code m} is entity {@code m#r}, and every
 * entity is its own shard, so the allocation strategy sees replicas. {@code #} cannot occur in a
 * model name ({@link ModelName}), so the split is unambiguous.
 */
public final class EntityIds {
  public static final char SEPARATOR = '#';

  private EntityIds() {}

  public static String of(String model, int replica) {
    ModelName.require(model);
    if (replica < 0) {
      throw new IllegalArgumentException("replica must be >= 0, was " + replica);
    }
    return model + SEPARATOR + replica;
  }

  public static String model(String entityId) {
    int i = separatorIndex(entityId);
    return ModelName.require(entityId.substring(0, i));
  }

  public static int replica(String entityId) {
    int i = separatorIndex(entityId);
    try {
      int r = Integer.parseInt(entityId.substring(i + 1));
      if (r < 0) {
        throw new NumberFormatException();
      }
      return r;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("invalid replica in entity id '" + entityId + "'");
    }
  }

  private static int separatorIndex(String entityId) {
    int i = entityId.lastIndexOf(SEPARATOR);
    if (i <= 0) {
      throw new IllegalArgumentException("entity id '" + entityId + "' is not of the form model#replica");
    }
    return i;
  }
}
