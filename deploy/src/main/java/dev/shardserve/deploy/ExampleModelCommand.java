package dev.shardserve.deploy;

import dev.shardserve.node.examples.HalfPlusTwoModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "example-model", mixinStandardHelpOptions = true,
    description = "Write the half-plus-two example SavedModel (y = 0.5x + 2; predict, regress and classify "
        + "signatures, like TF Serving's test model) with TensorFlow Java, as OUT/<version>.")
final class ExampleModelCommand implements Callable<Integer> {
  @Option(names = "--out", paramLabel = "DIR", defaultValue = "${env:SHARDSERVE_EXAMPLE_OUT:-models/half_plus_two}",
      description = "The model folder to write into (env SHARDSERVE_EXAMPLE_OUT; default ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--model-version", defaultValue = "${env:SHARDSERVE_EXAMPLE_VERSION:-1}",
      description = "Version number (env SHARDSERVE_EXAMPLE_VERSION; default ${DEFAULT-VALUE}).")
  long version;

  @Override
  public Integer call() {
    if (version < 0) {
      System.err.println("--model-version must be >= 0, was " + version);
      return 2;
    }
    Path dir = out.resolve(Long.toString(version));
    if (Files.exists(dir)) {
      System.err.println("'" + dir + "' already exists: not overwriting it");
      return 2;
    }
    HalfPlusTwoModel.write(dir);
    System.out.println("wrote " + dir.toAbsolutePath());
    return 0;
  }
}
