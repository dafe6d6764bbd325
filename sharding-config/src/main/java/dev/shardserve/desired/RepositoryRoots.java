package dev.shardserve.desired;

import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The folders a model's {@code base_path} may point into ({@code shardserve.repository-roots};
 * by default the model repository). A base path is confined after resolving {@code ..} and
 * symbolic links: a path outside every root is refused with a message naming the path and the
 * roots (the admin API answers 400). A relative base path is read from the first root. Where a
 * path does not exist (yet, or not on this host), its nearest existing folder is resolved and the
 * rest is checked as written, so a link cannot lead out of a root either way.
 */
public final class RepositoryRoots {
  private final List<Path> roots;

  public RepositoryRoots(List<Path> roots) {
    if (roots.isEmpty()) {
      throw new IllegalArgumentException("shardserve.repository-roots: at least one folder is needed");
    }
    List<Path> out = new ArrayList<>();
    for (Path r : roots) {
      out.add(real(r.toAbsolutePath().normalize()));
    }
    this.roots = List.copyOf(out);
  }

  /**
   * {@code shardserve.repository-roots}, or when that list is empty the model repository
   * ({@code shardserve.node.model-repository}, "models" when unset).
   */
  public static RepositoryRoots fromConfig(Config root) {
    List<String> listed = root.hasPath("shardserve.repository-roots")
        ? root.getStringList("shardserve.repository-roots") : List.of();
    List<Path> paths = new ArrayList<>();
    for (String s : listed) {
      if (!s.isBlank()) {
        paths.add(Path.of(s));
      }
    }
    if (paths.isEmpty()) {
      paths.add(Path.of(root.hasPath("shardserve.node.model-repository")
          ? root.getString("shardserve.node.model-repository") : "models"));
    }
    return new RepositoryRoots(paths);
  }

  public List<Path> roots() {
    return roots;
  }

  /**
   * The real path of {@code path} (relative: under the first root) when it lies in a root; else
   * throws {@link IllegalArgumentException} naming the path and the roots. The node calls this on
   * the folder it is about to scan and load.
   */
  public Path confine(Path path) {
    Path abs = (path.isAbsolute() ? path : roots.get(0).resolve(path)).normalize();
    Path resolved = real(abs);
    for (Path r : roots) {
      if (resolved.startsWith(r)) {
        return resolved;
      }
    }
    throw new IllegalArgumentException("base_path '" + path + "' is outside the repository roots " + roots
        + (resolved.equals(abs) ? "" : " (it resolves to " + resolved + ")")
        + "; shardserve.repository-roots (--repository-root) lists the folders models may be read from");
  }

  /** {@link #confine(Path)} for a base path as written in a config file or admin request; empty is fine. */
  public void check(String basePath) {
    if (basePath == null || basePath.isEmpty()) {
      return;
    }
    Path p;
    try {
      p = Path.of(basePath);
    } catch (InvalidPathException e) {
      throw new IllegalArgumentException("base_path '" + basePath.replace("\0", "\\0") + "' is not a path: "
          + e.getReason());
    }
    confine(p);
  }

  /** The state unchanged when every model's base path lies in a root; else throws naming the model. */
  public DesiredState confine(DesiredState state) {
    for (Map.Entry<String, ModelSpec> e : state.models().entrySet()) {
      try {
        check(e.getValue().basePath());
      } catch (IllegalArgumentException ex) {
        throw new IllegalArgumentException("model '" + e.getKey() + "': " + ex.getMessage(), ex);
      }
    }
    return state;
  }

  /** The real path of the nearest existing ancestor, with the rest appended as written. */
  private static Path real(Path abs) {
    Path existing = abs;
    while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
      existing = existing.getParent();
    }
    if (existing == null) {
      return abs;
    }
    try {
      Path r = existing.toRealPath();
      return r.resolve(existing.relativize(abs)).normalize();
    } catch (IOException e) {
      return abs; // unreadable: checked as written
    }
  }

  @Override
  public String toString() {
    return roots.toString();
  }
}
