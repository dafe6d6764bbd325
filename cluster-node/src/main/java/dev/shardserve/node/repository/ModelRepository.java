package dev.shardserve.node.repository;

import dev.shardserve.protocol.ModelName;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A model repository laid out as TensorFlow Serving's: {@code <root>/<model>/<version>/saved_model.pb}.
 * Every sub-folder with a valid model name is a model; a model's versions are watched by its
 * replicas ({@code lifecycle.VersionScanner}).
 */
public final class ModelRepository {
  private static final Logger log = LoggerFactory.getLogger(ModelRepository.class);

  private final Path root;

  public ModelRepository(Path root) {
    this.root = root.toAbsolutePath().normalize();
  }

  public Path root() {
    return root;
  }

  /** Names of the model folders, sorted. An unreadable or missing root has none. */
  public SortedSet<String> models() {
    SortedSet<String> out = new TreeSet<>();
    if (!Files.isDirectory(root)) {
      return out;
    }
    try (Stream<Path> children = Files.list(root)) {
      children.filter(Files::isDirectory).forEach(p -> {
        String name = p.getFileName().toString();
        if (ModelName.isValid(name) && !name.startsWith(".")) {
          out.add(name);
        } else {
          log.debug("ignoring repository folder '{}': not a valid model name", name);
        }
      });
    } catch (IOException e) {
      log.warn("cannot list model repository {}: {}", root, e.toString());
    }
    return out;
  }

  /** The model's folder, or null when the name is invalid or no such folder exists. */
  public Path modelDir(String model) {
    if (!ModelName.isValid(model)) {
      return null;
    }
    Path dir = root.resolve(model).normalize();
    return dir.getParent().equals(root) && Files.isDirectory(dir) ? dir : null;
  }
}
