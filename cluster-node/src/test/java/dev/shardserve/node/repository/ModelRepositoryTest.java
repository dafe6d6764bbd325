package dev.shardserve.node.repository;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelRepositoryTest {
  @TempDir Path tmp;

  @Test
  void aRootThatCannotBeListed_keepsTheLastListing_andSaysWhy() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("models"));
    Files.createDirectories(root.resolve("a/1"));
    Files.createDirectories(root.resolve("b"));
    Files.createDirectories(root.resolve("not a model name"));
    ModelRepository repository = new ModelRepository(root);
    assertEquals(Set.of("a", "b"), repository.models());
    assertTrue(repository.listingError().isEmpty());

    Files.move(root, tmp.resolve("elsewhere")); // the volume is not mounted
    assertEquals(Set.of("a", "b"), repository.models(), "a storage blip does not unpublish every model");
    assertTrue(repository.listingError().orElseThrow().contains("NoSuchFile"), repository.listingError().toString());

    Files.move(tmp.resolve("elsewhere"), root);
    Files.delete(root.resolve("b"));
    assertEquals(Set.of("a"), repository.models(), "a successful listing that lacks a model drops it");
    assertTrue(repository.listingError().isEmpty());
  }
}
