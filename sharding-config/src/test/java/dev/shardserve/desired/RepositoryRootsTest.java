package dev.shardserve.desired;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RepositoryRootsTest {
  @TempDir Path tmp;
  Path repo;
  Path outside;
  RepositoryRoots roots;

  @BeforeEach
  void setUp() throws Exception {
    repo = Files.createDirectories(tmp.resolve("repo"));
    Files.createDirectories(repo.resolve("m/1"));
    outside = Files.createDirectories(tmp.resolve("secret"));
    roots = new RepositoryRoots(List.of(repo));
  }

  @Test
  void insideRoot_absoluteOrRelative_isItsRealPath() throws Exception {
    assertEquals(repo.toRealPath().resolve("m"), roots.confine(repo.resolve("m")));
    assertEquals(repo.toRealPath().resolve("m"), roots.confine(Path.of("m")));
    assertEquals(repo.toRealPath().resolve("not-yet/there"), roots.confine(Path.of("not-yet/there")));
    roots.check("");
  }

  @Test
  void dotDotEscape_refused_namingPathAndRoots() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> roots.check("../secret"));
    assertTrue(e.getMessage().contains("'../secret'") && e.getMessage().contains(repo.getFileName().toString()),
        e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> roots.check("m/../../secret/x"));
    assertThrows(IllegalArgumentException.class, () -> roots.check("/etc"));
    assertThrows(IllegalArgumentException.class, () -> roots.check(repo + "-sibling"));
  }

  @Test
  void symlinkOut_refused_evenForAFolderNotCreatedYet() throws Exception {
    Files.createSymbolicLink(repo.resolve("link"), outside);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> roots.check("link"));
    assertTrue(e.getMessage().contains("resolves to"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> roots.check("link/model/1"));
  }

  @Test
  void symlinkedRoot_isCompared_asItsRealPath() throws Exception {
    Path alias = Files.createSymbolicLink(tmp.resolve("alias"), repo);
    RepositoryRoots r = new RepositoryRoots(List.of(alias));
    assertEquals(repo.toRealPath().resolve("m"), r.confine(repo.resolve("m")));
  }

  @Test
  void nulByte_isRefusedAsNotAPath() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> roots.check("m\0x"));
    assertTrue(e.getMessage().contains("not a path"), e.getMessage());
  }

  @Test
  void desiredState_refusedNamingTheModel() {
    TreeMap<String, ModelSpec> models = new TreeMap<>();
    models.put("ok", ModelSpec.DEFAULT.withBasePath("m"));
    models.put("bad", ModelSpec.DEFAULT.withBasePath(outside.toString()));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> roots.confine(new DesiredState(false, models)));
    assertTrue(e.getMessage().startsWith("model 'bad': base_path"), e.getMessage());
  }

  @Test
  void fromConfig_defaultsToTheModelRepository_orTheListedRoots() {
    RepositoryRoots d = RepositoryRoots.fromConfig(ConfigFactory.parseMap(Map.of(
        "shardserve.node.model-repository", repo.toString())));
    d.check(repo.resolve("m").toString());
    RepositoryRoots listed = RepositoryRoots.fromConfig(ConfigFactory.parseMap(Map.of(
        "shardserve.node.model-repository", repo.toString(),
        "shardserve.repository-roots", List.of(outside.toString()))));
    listed.check(outside.resolve("x").toString());
    assertThrows(IllegalArgumentException.class, () -> listed.check(repo.resolve("m").toString()));
  }

  @Test
  void configSource_refusesAFileThatPointsOutside() throws Exception {
    Path file = Files.writeString(tmp.resolve("models.conf"), "models { x { base-path = \"" + outside + "\" } }");
    var source = ModelConfigSource.of(ConfigFactory.parseMap(Map.of("shardserve.model-config", file.toString(),
        "shardserve.node.model-repository", repo.toString())), Map.of());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, source::get);
    assertTrue(e.getMessage().contains("model 'x'") && e.getMessage().contains(file.toString()), e.getMessage());
  }
}
