package dev.shardserve.desired;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Where a process's model config comes from: the file named by {@code shardserve.model-config}
 * ({@code --model-config}), else TF Serving's {@code MODEL_NAME} / {@code MODEL_BASE_PATH}
 * environment variables, else nowhere (null). The supplier reads the file again on every call,
 * which is what {@code reload-config} needs.
 */
public final class ModelConfigSource {
  private ModelConfigSource() {}

  public static Supplier<DesiredState> of(Config config, Map<String, String> env) {
    String file = config.getString("shardserve.model-config");
    if (!file.isBlank()) {
      Path path = Path.of(file);
      return () -> ModelConfigFile.read(path);
    }
    DesiredState fromEnv = ModelConfigFile.fromTfServingEnvironment(env);
    return fromEnv == null ? null : () -> fromEnv;
  }
}
