package dev.shardserve.node.repository;

import dev.shardserve.protocol.ModelName;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A model repository laid out as TensorFlow Serving's: {@code <root>/<model>/<version>/saved_model.pb}.
 * Every sub-folder with a valid model name is a model; a model's versions are watched by its
 * replicas ({@code lifecycle.VersionScanner}).
 *
 * <p>A root that cannot be listed (an I/O error, or missing: an unmounted volume) does not mean
 * "no models": {@link #models()} then answers the last successful listing and
 * {@link #listingError()} says why, so that a storage blip does not unpublish every model.
 */
public final class ModelRepository {
  private static final Logger log = LoggerFactory.getLogger(ModelRepository.class);

  private final Path root;
  private volatile SortedSet<String> lastModels = Collections.emptySortedSet();
  private volatile String listingError;

  public ModelRepository(Path root) {
    this.root = root.toAbsolutePath().normalize();
  }

  public Path root() {
    return root;
  }

  /** Names of the model folders, sorted; the last successful listing while the root cannot be listed. */
  public SortedSet<String> models() {
    SortedSet<String> out = new TreeSet<>();
    try (Stream<Path> children = Files.list(root)) {
      children.filter(Files::isDirectory).forEach(p -> {
        String name = p.getFileName().toString();
        if (ModelName.isValid(name) && !name.startsWith(".")) {
          out.add(name);
        } else {
          log.debug("ignoring repository folder '{}': not a valid model name", name);
        }
      });
    } catch (IOException | UncheckedIOException e) {
      String error = e.toString();
      if (listingError == null) {
        log.warn("cannot list model repository {}: {}; keeping the last listing {} until one succeeds", root,
            error, lastModels);
      }
      listingError = error;
      return lastModels;
    }
    if (listingError != null) {
      log.info("model repository {} can be listed again", root);
      listingError = null;
    }
    lastModels = Collections.unmodifiableSortedSet(out);
    return lastModels;
  }

  /** Why the root could not be listed, while it cannot. */
  public Optional<String> listingError() {
    return Optional.ofNullable(listingError);
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
