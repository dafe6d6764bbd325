package dev.shardserve.gateway.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A value parsed from one or more files, re-read when their contents change. {@link #refresh()}
 * (called every reload interval) reads the files and parses them again only when their bytes
 * differ from the last parse. The first parse happens in the constructor and throws when it fails
 * (so a bad file stops the start); a later parse that fails keeps the previous value in force and
 * logs the error: never fail open. Thread-safe: readers see one volatile value.
 */
final class WatchedFile<T> {
  private static final Logger log = LoggerFactory.getLogger(WatchedFile.class);

  private final String what;
  private final List<Path> files;
  private final Function<List<String>, T> parser;
  private volatile T value;
  private byte[] digest;
  private String lastError;

  /** {@code parser} gets each file's text, in the order of {@code files}; it throws IllegalArgumentException. */
  WatchedFile(String what, List<Path> files, Function<List<String>, T> parser) {
    this.what = what;
    this.files = List.copyOf(files);
    this.parser = parser;
    List<String> texts = read();
    this.value = parser.apply(texts);
    this.digest = digest(texts);
  }

  T current() {
    return value;
  }

  /** Re-reads the files; true when a changed version was parsed and is now in force. */
  synchronized boolean refresh() {
    List<String> texts;
    try {
      texts = read();
    } catch (IllegalArgumentException e) {
      failed(e.getMessage());
      return false;
    }
    byte[] d = digest(texts);
    if (MessageDigest.isEqual(d, digest)) {
      return false;
    }
    T next;
    try {
      next = parser.apply(texts);
    } catch (RuntimeException e) {
      failed(e.getMessage());
      return false;
    }
    value = next;
    digest = d;
    lastError = null;
    log.info("{} reloaded from {}", what, files);
    return true;
  }

  private void failed(String message) {
    if (!message.equals(lastError)) { // once per distinct error, not every interval
      log.error("{} not reloaded, the previous version stays in force: {}", what, message);
      lastError = message;
    }
  }

  private List<String> read() {
    return files.stream().map(f -> {
      try {
        return Files.readString(f);
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot read " + f + ": " + e);
      }
    }).toList();
  }

  private static byte[] digest(List<String> texts) {
    StringBuilder all = new StringBuilder();
    for (String t : texts) {
      all.append(t.length()).append(':').append(t);
    }
    return ApiKeys.sha256(all.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }
}
