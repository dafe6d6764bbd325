package dev.shardserve.gateway.grpc;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The gRPC listener's settings, read once from {@code shardserve.gateway.grpc} (plus the message
 * limit {@code shardserve.gateway.max-binary-bytes}, shared with the KServe v2 binary REST body,
 * and the drain time {@code shardserve.drain-timeout}), validated
 * with messages naming the key and value.
 *
 * @param port -1 turns gRPC off, 0 picks a free port
 * @param maxMessageBytes the largest request message; larger ones end with RESOURCE_EXHAUSTED
 * @param keepAliveTime idle time after which the server pings a connection (dead peers are found)
 * @param keepAliveTimeout how long the server waits for that ping's answer before closing
 * @param permitKeepAliveTime the shortest ping interval a client may use (faster pings: GOAWAY)
 * @param permitKeepAliveWithoutCalls whether clients may ping connections with no call open
 * @param maxConnectionIdle a connection without calls for this long is closed gracefully (0 = never)
 * @param maxConcurrentStreams calls one connection may have open at once
 * @param tensorContentOutputs answer TF Serving's Predict with {@code tensor_content} (raw
 *     little-endian bytes) instead of the typed fields ({@code float_val}, ...) TF Serving uses
 * @param directExecutor run handlers on the transport's threads (they never block; one thread
 *     hand-off less per call) instead of a separate pool
 * @param drainTimeout how long calls in flight may run on after shutdown starts
 */
public record GrpcSettings(
    String host,
    int port,
    int maxMessageBytes,
    Duration keepAliveTime,
    Duration keepAliveTimeout,
    Duration permitKeepAliveTime,
    boolean permitKeepAliveWithoutCalls,
    Duration maxConnectionIdle,
    int maxConcurrentStreams,
    boolean tensorContentOutputs,
    boolean directExecutor,
    Duration drainTimeout) {

  static final Duration DEFAULT_DRAIN = Duration.ofSeconds(10);

  public GrpcSettings {
    if (port < -1 || port > 65535) {
      throw new IllegalArgumentException("shardserve.gateway.grpc.port must be -1 (off) or 0-65535, was " + port);
    }
    if (maxMessageBytes < 1024) {
      throw new IllegalArgumentException("shardserve.gateway.max-binary-bytes must be >= 1 KiB (and < 2 GiB), was "
          + maxMessageBytes);
    }
    positive("keep-alive-time", keepAliveTime);
    positive("keep-alive-timeout", keepAliveTimeout);
    positive("permit-keep-alive-time", permitKeepAliveTime);
    if (maxConnectionIdle.isNegative()) {
      throw new IllegalArgumentException("shardserve.gateway.grpc.max-connection-idle must be >= 0 (0 = never), was "
          + maxConnectionIdle);
    }
    if (maxConcurrentStreams < 1) {
      throw new IllegalArgumentException("shardserve.gateway.grpc.max-concurrent-streams must be >= 1, was "
          + maxConcurrentStreams);
    }
    if (drainTimeout.isNegative()) {
      throw new IllegalArgumentException("shardserve.drain-timeout must be >= 0, was " + drainTimeout);
    }
  }

  private static void positive(String key, Duration d) {
    if (d.isZero() || d.isNegative()) {
      throw new IllegalArgumentException("shardserve.gateway.grpc." + key + " must be > 0, was " + d);
    }
  }

  public boolean enabled() {
    return port >= 0;
  }

  public static GrpcSettings fromConfig(Config root) {
    Config c = root.getConfig("shardserve.gateway.grpc");
    long maxBytes = root.getBytes("shardserve.gateway.max-binary-bytes");
    if (maxBytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("shardserve.gateway.max-binary-bytes must be < 2 GiB, was " + maxBytes);
    }
    Duration drain = root.hasPath("shardserve.drain-timeout") ? root.getDuration("shardserve.drain-timeout")
        : DEFAULT_DRAIN;
    return new GrpcSettings(
        c.getString("host"),
        c.getInt("port"),
        (int) maxBytes,
        c.getDuration("keep-alive-time"),
        c.getDuration("keep-alive-timeout"),
        c.getDuration("permit-keep-alive-time"),
        c.getBoolean("permit-keep-alive-without-calls"),
        c.getDuration("max-connection-idle"),
        c.getInt("max-concurrent-streams"),
        c.getBoolean("tensor-content-outputs"),
        c.getBoolean("direct-executor"),
        drain);
  }

  public GrpcSettings withPort(int newPort) {
    return new GrpcSettings(host, newPort, maxMessageBytes, keepAliveTime, keepAliveTimeout, permitKeepAliveTime,
        permitKeepAliveWithoutCalls, maxConnectionIdle, maxConcurrentStreams, tensorContentOutputs, directExecutor,
        drainTimeout);
  }
}
