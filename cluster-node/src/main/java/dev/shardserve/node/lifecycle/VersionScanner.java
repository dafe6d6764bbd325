package dev.shardserve.node.lifecycle;

import dev.shardserve.node.runtime.SavedModelLoader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches one model's base folder for version folders ({@code <base>/<number>/saved_model.pb}, or
 * {@code simulated.json} for a simulated model).
 * A version is reported only once it is <em>stable</em>: its contents (every file's path, size
 * and modification time) are the same in two consecutive scans, so a folder that is still being
 * copied is never loaded half-written. The fingerprint also tells when a version's files changed
 * after a failed load (a fixed folder is loaded again at once). A version folder that cannot be
 * read is reported with its error, so that the status shows why it does not load.
 *
 * <p>Only a listing that <em>succeeds</em> and lacks a version retires it. When the base folder
 * cannot be listed (an I/O error: an NFS blip, a stale handle) or is missing together with its
 * parent folder (an unmounted volume), the scan returns the previous scan unchanged and
 * {@link #listingError()} says why, until a listing succeeds again. A base folder that is missing
 * while its parent lists fine was deleted: no versions.
 *
 * <p>Not thread-safe: one owner calls {@link #scan} (the model entity, from its load thread);
 * {@link #listingError()} may be read from any thread.
 */
public final class VersionScanner {
  private static final Logger log = LoggerFactory.getLogger(VersionScanner.class);

  /** A version folder as seen by a scan: its path and a fingerprint of its contents. */
  public record Seen(Path dir, String fingerprint) {}

  /** One scan: the stable versions, and every version folder on disk (stable or not). */
  public record Scan(SortedMap<Long, Seen> stable, java.util.SortedSet<Long> onDisk) {}

  /**
   * Why the last scans could not list the base folder: the error of the latest attempt, how many
   * scans in a row failed, and when the first of them failed (epoch ms, for people).
   */
  public record ListingError(String message, int failedScans, long sinceEpochMillis) {}

  /** Lists a folder's entries; the file system in production, a failing one in tests. */
  interface DirectoryLister {
    List<Path> list(Path dir) throws IOException;
  }

  private static final Scan EMPTY = new Scan(Collections.emptySortedMap(), Collections.emptySortedSet());

  private final Path base;
  private final long settleMillis;
  private final DirectoryLister lister;
  private Map<Long, String> previous;
  private Scan lastScan = EMPTY;
  private volatile ListingError listingError;

  /**
   * @param settle on the first scan (there is no previous one to compare with), a version whose
   *     newest file is older than this is taken as stable at once, so that a node starts serving
   *     without waiting a poll interval
   */
  public VersionScanner(Path base, java.time.Duration settle) {
    this(base, settle, VersionScanner::listDirectory);
  }

  VersionScanner(Path base, java.time.Duration settle, DirectoryLister lister) {
    this.base = base;
    this.settleMillis = settle.toMillis();
    this.lister = lister;
  }

  public Path base() {
    return base;
  }

  /**
   * Why the base folder could not be listed, while it cannot (the scans meanwhile return the last
   * successful one); empty once a listing succeeds.
   */
  public Optional<ListingError> listingError() {
    return Optional.ofNullable(listingError);
  }

  /** The versions whose contents did not change since the previous scan, by number. */
  public Scan scan() {
    Map<Long, Seen> now = new HashMap<>();
    try {
      for (Path p : versionFolders()) {
        Long v = parseVersion(p.getFileName().toString());
        if (v == null) {
          if (!p.getFileName().toString().startsWith(".")) {
            log.debug("ignoring '{}' in {}: not a version number", p.getFileName(), base);
          }
          continue;
        }
        if (Files.isDirectory(p) && SavedModelLoader.holdsModel(p)) {
          now.put(v, new Seen(p, fingerprint(p)));
        } else if (Files.isDirectory(p) && !Files.isReadable(p)) {
          now.put(v, new Seen(p, "unreadable"));
        }
      }
    } catch (IOException | RuntimeException e) {
      return failed(e);
    }
    ListingError recovered = listingError;
    if (recovered != null) {
      log.debug("versions in {} can be listed again after {} failed scan(s)", base, recovered.failedScans());
      listingError = null;
    }
    SortedMap<Long, Seen> stable = new TreeMap<>();
    Map<Long, String> fingerprints = new HashMap<>();
    long settledBefore = System.currentTimeMillis() - settleMillis;
    for (Map.Entry<Long, Seen> e : now.entrySet()) {
      fingerprints.put(e.getKey(), e.getValue().fingerprint());
      boolean unchanged = previous != null && e.getValue().fingerprint().equals(previous.get(e.getKey()));
      boolean settled = previous == null && newestModification(e.getValue().dir()) < settledBefore;
      if (unchanged || settled) {
        stable.put(e.getKey(), e.getValue());
      }
    }
    previous = fingerprints;
    lastScan = new Scan(stable, new java.util.TreeSet<>(now.keySet()));
    return lastScan;
  }

  /**
   * The entries of the base folder; none when it is not a folder or was deleted (its parent
   * lists fine without it). Throws when the answer is unknown: the listing failed, or neither the
   * base folder nor its parent exists (a volume that is not mounted).
   */
  private List<Path> versionFolders() throws IOException {
    BasicFileAttributes attributes;
    try {
      attributes = Files.readAttributes(base, BasicFileAttributes.class);
    } catch (NoSuchFileException e) {
      Path parent = base.toAbsolutePath().getParent();
      if (parent != null && Files.isDirectory(parent)) {
        lister.list(parent); // the parent must list, or a missing base means nothing
        return List.of();
      }
      throw new NoSuchFileException(base.toString(), null,
          "neither the model's folder nor its parent exists (a volume that is not mounted?)");
    }
    return attributes.isDirectory() ? lister.list(base) : List.of();
  }

  /** A scan whose listing failed: the previous scan stands, and the error is reported. */
  private Scan failed(Exception e) {
    ListingError before = listingError;
    String message = e.toString();
    listingError = new ListingError(message, before == null ? 1 : before.failedScans() + 1,
        before == null ? System.currentTimeMillis() : before.sinceEpochMillis());
    if (before == null) {
      // The owner (the replica) logs each change of the error once, and shows it in its status.
      log.debug("cannot list versions in {}: {}; keeping the last scan ({} on disk) until a listing succeeds",
          base, message, lastScan.onDisk());
    } else {
      log.debug("still cannot list versions in {} ({} failed scans): {}", base, listingError.failedScans(), message);
    }
    return lastScan;
  }

  private static List<Path> listDirectory(Path dir) throws IOException {
    try (Stream<Path> children = Files.list(dir)) {
      return children.toList();
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  private static long newestModification(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.mapToLong(p -> {
        try {
          return Files.getLastModifiedTime(p).toMillis();
        } catch (IOException e) {
          return Long.MAX_VALUE;
        }
      }).max().orElse(Long.MAX_VALUE);
    } catch (IOException | RuntimeException e) {
      return Long.MAX_VALUE;
    }
  }

  /** Every file under {@code dir}: relative path, size and modification time, hashed. */
  static String fingerprint(Path dir) {
    StringBuilder sb = new StringBuilder();
    try {
      Files.walkFileTree(dir, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
          sb.append(dir.relativize(file)).append(':').append(attrs.size()).append(':')
              .append(attrs.lastModifiedTime().toMillis()).append('\n');
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFileFailed(Path file, IOException e) {
          sb.append(dir.relativize(file)).append(":unreadable\n");
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      return "unreadable:" + e.getMessage();
    }
    // Sorted so that directory listing order does not matter.
    String[] lines = sb.toString().split("\n");
    java.util.Arrays.sort(lines);
    return String.join("\n", lines);
  }

  /** TF Serving's version folder names: decimal digits, leading zeros allowed ({@code 00000123}). */
  public static Long parseVersion(String name) {
    if (name.isEmpty() || name.length() > 18 || !name.chars().allMatch(Character::isDigit)) {
      return null;
    }
    return Long.parseLong(name);
  }
}
