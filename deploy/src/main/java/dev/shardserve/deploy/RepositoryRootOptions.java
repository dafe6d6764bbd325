package dev.shardserve.deploy;

import com.typesafe.config.ConfigFactory;
import dev.shardserve.desired.RepositoryRoots;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** The folders a model's base_path may point into (model config file, admin API). */
final class RepositoryRootOptions {
  @Option(names = "--repository-root", split = ",", paramLabel = "DIR",
      defaultValue = "${env:SHARDSERVE_REPOSITORY_ROOTS:-}",
      description = "A folder models may be read from; repeat or separate with commas (env "
          + "SHARDSERVE_REPOSITORY_ROOTS). A base_path outside every root, after resolving '..' and symbolic links, "
          + "is refused. Default: the model repository only.")
  List<Path> roots = new ArrayList<>();

  Map<String, Object> config() {
    List<String> out = new ArrayList<>();
    for (Path p : roots) {
      if (!p.toString().isBlank()) {
        out.add(p.toAbsolutePath().toString());
      }
    }
    return out.isEmpty() ? Map.of() : Map.of("shardserve.repository-roots", out);
  }

  /** The roots in force for a process whose model repository is {@code modelRepo} (null: the default). */
  RepositoryRoots roots(Path modelRepo) {
    Map<String, Object> c = new HashMap<>(config());
    if (modelRepo != null) {
      c.put("shardserve.node.model-repository", modelRepo.toAbsolutePath().toString());
    }
    return RepositoryRoots.fromConfig(ConfigFactory.parseMap(c));
  }
}
