package dev.shardserve.node.runtime;

import com.typesafe.config.Config;
import org.tensorflow.proto.ConfigProto;

/**
 * TensorFlow session threading. By default every op runs on the calling thread
 * ({@code inter-op = -1}, {@code intra-op = 1}): parallelism comes from our own runtime threads,
 * one per core, so TensorFlow never oversubscribes the cores. The inter-op setting is
 * process-wide in TensorFlow: the first session of a JVM decides it for all.
 */
public record SessionSettings(int intraOpThreads, int interOpThreads, boolean allowSoftPlacement) {
  public SessionSettings {
    if (intraOpThreads < 0) {
      throw new IllegalArgumentException("shardserve.node.tensorflow.intra-op-threads must be >= 0, was "
          + intraOpThreads);
    }
    if (interOpThreads < -1) {
      throw new IllegalArgumentException("shardserve.node.tensorflow.inter-op-threads must be >= -1, was "
          + interOpThreads);
    }
  }

  public static SessionSettings fromConfig(Config c) {
    return new SessionSettings(c.getInt("intra-op-threads"), c.getInt("inter-op-threads"),
        c.getBoolean("allow-soft-placement"));
  }

  public static SessionSettings callingThread() {
    return new SessionSettings(1, -1, true);
  }

  ConfigProto toProto() {
    return ConfigProto.newBuilder()
        .setIntraOpParallelismThreads(intraOpThreads)
        .setInterOpParallelismThreads(interOpThreads)
        // Models exported on GPU machines pin ops to /device:GPU:0; they must still load on CPU.
        .setAllowSoftPlacement(allowSoftPlacement)
        .build();
  }
}
