package dev.shardserve.deploy;

import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/** Where a process keeps its durable state (the desired state of models, in LMDB). */
final class StateOptions {
  @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "${env:SHARDSERVE_DATA_DIR}",
      description = "Folder for this process's durable state: the desired state of models (admin changes, "
          + "labels, rollbacks) survives a restart from here (env SHARDSERVE_DATA_DIR; default "
          + "./data/<process>). Two processes must not share one.")
  Path dataDir;

  Map<String, Object> config(String defaultName) {
    Path dir = dataDir != null ? dataDir : Path.of("data", defaultName);
    return Map.of("shardserve.data-dir", dir.toAbsolutePath().toString());
  }
}
