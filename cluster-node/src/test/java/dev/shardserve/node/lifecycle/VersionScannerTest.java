package dev.shardserve.node.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VersionScannerTest {
  @TempDir Path base;

  private void writeVersion(String name, String content) throws Exception {
    Path v = Files.createDirectories(base.resolve(name));
    Files.writeString(v.resolve("saved_model.pb"), content);
  }

  @Test
  void aVersionIsStableOnlyWhenUnchangedBetweenTwoScans() throws Exception {
    VersionScanner scanner = new VersionScanner(base, Duration.ofHours(1));
    writeVersion("1", "a");
    VersionScanner.Scan first = scanner.scan();
    assertEquals(Set.of(1L), first.onDisk());
    assertEquals(Set.of(), first.stable().keySet(), "just written: not stable on the first scan");
    assertEquals(Set.of(1L), scanner.scan().stable().keySet());
    Files.writeString(base.resolve("1/variables.index"), "still copying");
    assertEquals(Set.of(), scanner.scan().stable().keySet(), "changed since the last scan");
    assertEquals(Set.of(1L), scanner.scan().stable().keySet());
  }

  @Test
  void onTheFirstScan_oldFoldersAreStableAtOnce() throws Exception {
    writeVersion("00000123", "a");
    FileTime old = FileTime.fromMillis(System.currentTimeMillis() - 60_000);
    Files.setLastModifiedTime(base.resolve("00000123/saved_model.pb"), old);
    Files.setLastModifiedTime(base.resolve("00000123"), old);
    assertEquals(Set.of(123L), new VersionScanner(base, Duration.ofSeconds(2)).scan().stable().keySet());
  }

  @Test
  void nonNumericFolders_andFoldersWithoutASavedModel_areNotVersions() throws Exception {
    writeVersion("7", "a");
    Files.createDirectories(base.resolve("8"));
    Files.createDirectories(base.resolve("tmp-copy"));
    Files.writeString(base.resolve("README"), "x");
    VersionScanner scanner = new VersionScanner(base, Duration.ofHours(1));
    scanner.scan();
    assertEquals(Set.of(7L), scanner.scan().stable().keySet());
    assertEquals(Set.of(), new VersionScanner(base.resolve("missing"), Duration.ZERO).scan().onDisk());
  }
}
