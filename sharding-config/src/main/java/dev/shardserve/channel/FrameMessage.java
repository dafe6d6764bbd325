package dev.shardserve.channel;

/**
 * Marker for the messages of the gateway-to-node channels, bound to {@link FrameSerializer}
 * (their own format, written straight into Artery's buffer; not Kryo).
 */
public interface FrameMessage {}
