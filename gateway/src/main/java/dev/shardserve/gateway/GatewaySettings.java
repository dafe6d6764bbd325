package dev.shardserve.gateway;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The gateway's settings, read once from {@code shardserve.gateway} and validated with messages
 * naming the key and value.
 */
public record GatewaySettings(
    String host,
    int port,
    long maxRequestBytes,
    long maxBinaryBytes,
    Duration defaultDeadline,
    Duration maxDeadline,
    Duration controlTimeout,
    String adminHost,
    int adminPort) {

  public GatewaySettings {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("shardserve.gateway.port must be 0-65535, was " + port);
    }
    if (maxRequestBytes < 1024) {
      throw new IllegalArgumentException("shardserve.gateway.max-request-bytes must be >= 1 KiB, was "
          + maxRequestBytes);
    }
    if (maxBinaryBytes < 1024 || maxBinaryBytes > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("shardserve.gateway.max-binary-bytes must be from 1 KiB to 2 GiB, was "
          + maxBinaryBytes);
    }
    if (defaultDeadline.isZero() || defaultDeadline.isNegative() || maxDeadline.compareTo(defaultDeadline) < 0) {
      throw new IllegalArgumentException("shardserve.gateway: need 0 < default-deadline <= max-deadline, was "
          + defaultDeadline + " and " + maxDeadline);
    }
    if (adminPort < 0 || adminPort > 65535) {
      throw new IllegalArgumentException("shardserve.gateway.admin-port must be 0-65535, was " + adminPort);
    }
    if (controlTimeout.isZero() || controlTimeout.isNegative()) {
      throw new IllegalArgumentException("shardserve.gateway.control-timeout must be > 0, was " + controlTimeout);
    }
  }

  public static GatewaySettings fromConfig(Config root) {
    Config c = root.getConfig("shardserve.gateway");
    return new GatewaySettings(
        c.getString("host"),
        c.getInt("port"),
        c.getBytes("max-request-bytes"),
        c.getBytes("max-binary-bytes"),
        c.getDuration("default-deadline"),
        c.getDuration("max-deadline"),
        c.getDuration("control-timeout"),
        c.getString("admin-host"),
        c.getInt("admin-port"));
  }

  public GatewaySettings withPort(int newPort) {
    return new GatewaySettings(host, newPort, maxRequestBytes, maxBinaryBytes, defaultDeadline, maxDeadline, controlTimeout,
        adminHost, adminPort);
  }
}
