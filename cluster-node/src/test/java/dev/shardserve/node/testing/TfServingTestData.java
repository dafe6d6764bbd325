package dev.shardserve.node.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates TensorFlow Serving's test SavedModels ({@code ../shared/testdata/tfserving}, see its
 * README). Compatibility tests call {@link #require} and are skipped with a clear message when
 * the folder is absent; the project's own tests never need it.
 */
public final class TfServingTestData {
  private TfServingTestData() {}

  public static Path root() {
    String configured = System.getProperty("shardserve.testdata.dir");
    Path base = configured != null ? Path.of(configured) : Path.of("../../shared/testdata");
    return base.resolve("tfserving").toAbsolutePath().normalize();
  }

  /** The model folder {@code name}, or the test is skipped saying what is missing. */
  public static Path require(String name) {
    Path dir = root().resolve(name);
    assumeTrue(Files.isDirectory(dir),
        "TF Serving test data not found at " + dir + " (../shared/testdata/tfserving): compatibility test skipped");
    return dir;
  }
}
