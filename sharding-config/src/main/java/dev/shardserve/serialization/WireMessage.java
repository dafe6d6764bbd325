package dev.shardserve.serialization;

/**
 * Marker for every message that may cross a JVM boundary; bound once to {@link KryoSerializer}
 * in {@code reference.conf}. Java serialization stays off.
 */
public interface WireMessage {}
