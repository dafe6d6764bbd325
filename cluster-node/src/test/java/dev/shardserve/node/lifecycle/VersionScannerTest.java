package dev.shardserve.node.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
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
  }

  @Test
  void aFailedListing_keepsThePreviousScan_andReportsTheError_untilAListingSucceeds() throws Exception {
    writeVersion("1", "a");
    writeVersion("2", "b");
    AtomicBoolean failing = new AtomicBoolean();
    VersionScanner scanner = new VersionScanner(base, Duration.ofHours(1), dir -> {
      if (failing.get()) {
        throw new IOException("Stale file handle");
      }
      try (var s = Files.list(dir)) {
        return s.toList();
      }
    });
    scanner.scan();
    VersionScanner.Scan good = scanner.scan();
    assertEquals(Set.of(1L, 2L), good.stable().keySet());
    assertTrue(scanner.listingError().isEmpty());

    failing.set(true);
    VersionScanner.Scan during = scanner.scan();
    assertEquals(good, during, "an I/O error is not 'every version was deleted'");
    assertEquals(good, scanner.scan());
    VersionScanner.ListingError error = scanner.listingError().orElseThrow();
    assertTrue(error.message().contains("Stale file handle"), error.message());
    assertEquals(2, error.failedScans());

    failing.set(false);
    assertEquals(good, scanner.scan(), "unchanged folders stay stable across the failed scans");
    assertTrue(scanner.listingError().isEmpty(), "a listing that succeeds clears the error");
  }

  @Test
  void onlyASuccessfulListingThatLacksAVersion_retiresIt() throws Exception {
    writeVersion("1", "a");
    writeVersion("2", "b");
    VersionScanner scanner = new VersionScanner(base, Duration.ofHours(1));
    scanner.scan();
    assertEquals(Set.of(1L, 2L), scanner.scan().stable().keySet());
    Files.delete(base.resolve("2/saved_model.pb"));
    Files.delete(base.resolve("2"));
    VersionScanner.Scan after = scanner.scan();
    assertEquals(Set.of(1L), after.stable().keySet());
    assertEquals(Set.of(1L), after.onDisk());
  }

  @Test
  void aDeletedModelFolder_hasNoVersions_butAMissingVolumeIsAnError() throws Exception {
    // The model's folder is gone while its parent lists fine: the model was deleted.
    VersionScanner deleted = new VersionScanner(base.resolve("missing"), Duration.ZERO);
    assertEquals(Set.of(), deleted.scan().onDisk());
    assertTrue(deleted.listingError().isEmpty());

    // Its parent is gone too (an unmounted volume): the answer is unknown, the last scan stands.
    Path volume = Files.createDirectories(base.resolve("volume"));
    Path model = volume.resolve("m");
    Files.createDirectories(model.resolve("3"));
    Files.writeString(model.resolve("3/saved_model.pb"), "x");
    VersionScanner scanner = new VersionScanner(model, Duration.ofHours(1));
    scanner.scan();
    VersionScanner.Scan mounted = scanner.scan();
    assertEquals(Set.of(3L), mounted.stable().keySet());
    Path elsewhere = base.resolve("unmounted");
    Files.move(volume, elsewhere);
    assertEquals(mounted, scanner.scan());
    assertTrue(scanner.listingError().orElseThrow().message().contains("not mounted"),
        scanner.listingError().toString());
  }
}
