package dev.shardserve.deploy;

import dev.shardserve.node.examples.HalfPlusTwoModel;
import dev.shardserve.node.examples.MlpModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "example-model", mixinStandardHelpOptions = true,
    description = "Write an example SavedModel with TensorFlow Java, as OUT/<version>: half_plus_two "
        + "(y = 0.5x + 2, x and y of shape [-1]; predict, regress and classify signatures, like TF Serving's test "
        + "model), half_plus_two_any_shape (the same with x of unknown rank: never batched) or mlp "
        + "(784-512-512-10 perceptron with seeded weights, input x [-1, 784], output probabilities [-1, 10]).")
final class ExampleModelCommand implements Callable<Integer> {
  @Option(names = "--out", paramLabel = "DIR", defaultValue = "${env:SHARDSERVE_EXAMPLE_OUT:-models/half_plus_two}",
      description = "The model folder to write into (env SHARDSERVE_EXAMPLE_OUT; default ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--model-version", defaultValue = "${env:SHARDSERVE_EXAMPLE_VERSION:-1}",
      description = "Version number (env SHARDSERVE_EXAMPLE_VERSION; default ${DEFAULT-VALUE}).")
  long version;

  @Option(names = "--kind", defaultValue = "half_plus_two",
      description = "half_plus_two, half_plus_two_any_shape or mlp (default ${DEFAULT-VALUE}).")
  String kind;

  @Option(names = "--seed", defaultValue = "42", description = "Weights seed of the mlp (default ${DEFAULT-VALUE}).")
  long seed;

  @Override
  public Integer call() {
    if (!kind.equals("half_plus_two") && !kind.equals("half_plus_two_any_shape") && !kind.equals("mlp")) {
      System.err.println("--kind must be half_plus_two, half_plus_two_any_shape or mlp, was '" + kind + "'");
      return 2;
    }
    if (version < 0) {
      System.err.println("--model-version must be >= 0, was " + version);
      return 2;
    }
    Path dir = out.resolve(Long.toString(version));
    if (Files.exists(dir)) {
      System.err.println("'" + dir + "' already exists: not overwriting it");
      return 2;
    }
    if (kind.equals("mlp")) {
      MlpModel.write(dir, seed);
    } else if (kind.equals("half_plus_two_any_shape")) {
      HalfPlusTwoModel.writeAnyShape(dir);
    } else {
      HalfPlusTwoModel.write(dir);
    }
    System.out.println("wrote " + dir.toAbsolutePath());
    return 0;
  }
}
