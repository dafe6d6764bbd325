package dev.shardserve.deploy;

import dev.shardserve.desired.ModelConfigFile;
import dev.shardserve.desired.RepositoryRoots;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** Options of the processes that serve the inference APIs (HTTP and gRPC) and the cluster-wide admin API. */
final class HttpOptions {
  @Option(names = "--port", defaultValue = "${env:SHARDSERVE_PORT:-8501}",
      description = "Inference HTTP port (env SHARDSERVE_PORT; default ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--host", defaultValue = "${env:SHARDSERVE_HOST:-0.0.0.0}",
      description = "Interface the inference listener binds (env SHARDSERVE_HOST; default ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--grpc-port", defaultValue = "${env:SHARDSERVE_GRPC_PORT:-8500}",
      description = "gRPC port: TF Serving's PredictionService and ModelService, KServe's GRPCInferenceService, "
          + "health, reflection (env SHARDSERVE_GRPC_PORT; default ${DEFAULT-VALUE}; 0 picks a free one, -1 turns "
          + "gRPC off). Plaintext unless TLS is configured.")
  int grpcPort;

  @Option(names = "--grpc-host", defaultValue = "${env:SHARDSERVE_GRPC_HOST:-0.0.0.0}",
      description = "Interface the gRPC listener binds (env SHARDSERVE_GRPC_HOST; default ${DEFAULT-VALUE}).")
  String grpcHost;

  @Option(names = "--grpc-max-message-bytes", defaultValue = "${env:SHARDSERVE_GRPC_MAX_MESSAGE_BYTES:-33554432}",
      description = "Largest gRPC request message, and KServe v2 binary REST body, in bytes (env "
          + "SHARDSERVE_GRPC_MAX_MESSAGE_BYTES; default ${DEFAULT-VALUE} = 32 MiB); larger gRPC requests end with "
          + "RESOURCE_EXHAUSTED. Config key shardserve.gateway.max-binary-bytes.")
  long grpcMaxMessageBytes;

  @Option(names = "--admin-port", defaultValue = "${env:SHARDSERVE_ADMIN_PORT:-8502}",
      description = "Admin API port (env SHARDSERVE_ADMIN_PORT; default ${DEFAULT-VALUE}; 0 picks a free one).")
  int adminPort;

  @Option(names = "--admin-host", defaultValue = "${env:SHARDSERVE_ADMIN_HOST:-127.0.0.1}",
      description = "Interface the admin listener binds (env SHARDSERVE_ADMIN_HOST; default ${DEFAULT-VALUE}: "
          + "loopback only, the admin API changes what the cluster serves).")
  String adminHost;

  @Option(names = "--model-config", paramLabel = "FILE", defaultValue = "${env:SHARDSERVE_MODEL_CONFIG}",
      description = "Model config file: HOCON/JSON (README) or TF Serving's model_config_list text. Seeds the "
          + "desired state at first start; POST /admin/reload-config applies it again (env SHARDSERVE_MODEL_CONFIG). "
          + "Without it, TF Serving's MODEL_NAME / MODEL_BASE_PATH are honoured when set.")
  Path modelConfig;

  /**
   * Reads the config file once, so that a bad one (or a base_path outside {@code roots}) stops the
   * start with its error; throws IllegalArgumentException.
   */
  void validate(RepositoryRoots roots) {
    if (modelConfig != null) {
      try {
        roots.confine(ModelConfigFile.read(modelConfig));
      } catch (IllegalArgumentException e) {
        throw e.getMessage().startsWith("model config file") ? e
            : new IllegalArgumentException("model config file " + modelConfig + ": " + e.getMessage(), e);
      }
    }
    if (grpcPort < -1 || grpcPort > 65535) {
      throw new IllegalArgumentException("--grpc-port must be -1 (off) or 0-65535, was " + grpcPort);
    }
    if (grpcMaxMessageBytes < 1024 || grpcMaxMessageBytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("--grpc-max-message-bytes must be between 1024 and " + Integer.MAX_VALUE
          + ", was " + grpcMaxMessageBytes);
    }
    if (adminPort < 0 || adminPort > 65535) {
      throw new IllegalArgumentException("--admin-port must be 0-65535, was " + adminPort);
    }
  }

  Map<String, Object> config() {
    Map<String, Object> c = new HashMap<>();
    c.put("shardserve.gateway.host", host);
    c.put("shardserve.gateway.port", port);
    c.put("shardserve.gateway.admin-host", adminHost);
    c.put("shardserve.gateway.grpc.port", grpcPort);
    c.put("shardserve.gateway.grpc.host", grpcHost);
    c.put("shardserve.gateway.max-binary-bytes", grpcMaxMessageBytes);
    c.put("shardserve.gateway.admin-port", adminPort);
    if (modelConfig != null) {
      c.put("shardserve.model-config", modelConfig.toAbsolutePath().toString());
    }
    return c;
  }
}
