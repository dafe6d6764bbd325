package dev.shardserve.desired;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Where a process's model config comes from: the file named by {@code shardserve.model-config}
 * ({@code --model-config}), else TF Serving's {@code MODEL_NAME} / {@code MODEL_BASE_PATH}
 * environment variables, else nowhere (null). The supplier reads the file again on every call,
 * which is what {@code reload-config} needs. Every model's base path must lie in the
 * {@link RepositoryRoots}: a file that points elsewhere is refused naming the model and path.
 */
public final class ModelConfigSource {
  private ModelConfigSource() {}

  public static Supplier<DesiredState> of(Config config, Map<String, String> env) {
    RepositoryRoots roots = RepositoryRoots.fromConfig(config);
    String file = config.getString("shardserve.model-config");
    if (!file.isBlank()) {
      Path path = Path.of(file);
      return () -> {
        try {
          return roots.confine(ModelConfigFile.read(path));
        } catch (IllegalArgumentException e) {
          throw e.getMessage().startsWith("model config file") ? e
              : new IllegalArgumentException("model config file " + path + ": " + e.getMessage(), e);
        }
      };
    }
    DesiredState fromEnv = ModelConfigFile.fromTfServingEnvironment(env);
    return fromEnv == null ? null : () -> roots.confine(fromEnv);
  }
}
