package dev.shardserve.node.entity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shardserve.desired.DesiredState;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.metrics.MetricsSettings;
import dev.shardserve.metrics.ShardServeMetrics;
import dev.shardserve.node.lifecycle.VersionScanner;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.ModelStatus;
import dev.shardserve.protocol.ModelProtocol.VersionState;
import dev.shardserve.protocol.VersionSelector;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.Test;

/**
 * The replica's version rules as plain logic (no actor, no TensorFlow: loaded models are
 * stand-ins): the replica count when the cluster shrinks, a desired state that could not be read,
 * and a base path change.
 */
class VersionsTest {
  static final ShardServeMetrics metrics = ShardServeMetrics.create(MetricsSettings.DEFAULT);
  static final Path OLD = Path.of("/models/old");
  static final Path NEW = Path.of("/models/new");
  static final IntPredicate NONE_HERE = r -> false;
  static final Duration GRACE = Duration.ofNanos(1000);

  static Versions versions(int replica) {
    return new Versions("m", replica, Duration.ofSeconds(1), Duration.ofSeconds(8), metrics.model("m"), GRACE);
  }

  /** A scan of {@code base} in which {@code numbers} are stable. */
  static VersionScanner.Scan scan(Path base, long... numbers) {
    TreeMap<Long, VersionScanner.Seen> stable = new TreeMap<>();
    TreeSet<Long> onDisk = new TreeSet<>();
    for (long v : numbers) {
      stable.put(v, new VersionScanner.Seen(base.resolve(Long.toString(v)), base + "/" + v));
      onDisk.add(v);
    }
    return new VersionScanner.Scan(stable, onDisk);
  }

  static DesiredState desired(ModelSpec spec) {
    return new DesiredState(false, new TreeMap<>()).with("m", spec);
  }

  /** Converges until nothing is left to load (each load "succeeds" at once, with a stand-in model). */
  static void loadAll(Versions vs, int workers, IntPredicate servingHere) {
    for (int i = 0; i < 10; i++) {
      Versions.Steps steps = vs.converge(i, workers, servingHere);
      for (Versions.Slot s : steps.retire()) {
        vs.freed(s);
      }
      if (steps.load() == null) {
        return;
      }
      assertTrue(vs.loaded(steps.load(), null));
    }
  }

  static Versions serving(int replica, ModelSpec spec, int workers) {
    Versions vs = versions(replica);
    vs.desired(desired(spec));
    vs.scanned(scan(OLD, 1), OLD, false, null);
    loadAll(vs, workers, NONE_HERE);
    assertTrue(vs.table().serving(), "serving with " + workers + " workers");
    return vs;
  }

  // ---- case 1: the cluster shrinks ----

  @Test
  void anAvailableReplica_beyondAnAutomaticCountThatFell_keepsServing_untilItsReplacementServesHere() {
    Versions one = serving(1, ModelSpec.DEFAULT.withBasePath("old"), 2);
    Versions.Steps steps = one.converge(100, 1, NONE_HERE); // one worker left; replica 0 not serving here yet
    assertEquals(List.of(), steps.retire());
    assertFalse(steps.passivate());
    assertTrue(one.table().serving(), "still serving");
    assertTrue(one.keptBeyondCount());
    steps = one.converge(200, 1, r -> r == 0); // replica 0 serves on this node now
    assertEquals(List.of(), steps.retire(), "the gateways must learn where the replacement is first");
    assertTrue(one.table().serving());
    steps = one.converge(200 + GRACE.toNanos(), 1, r -> r == 0);
    assertEquals(1, steps.retire().size(), "given up once its replacement has served for the grace time");
    Failure f = assertInstanceOf(Failure.class, one.table().resolve(VersionSelector.latest()));
    assertEquals(ErrorCode.UNAVAILABLE, f.code(), f.message());
  }

  @Test
  void anExplicitCountThatFell_isAnAdminDecision_andTakesEffectAtOnce() {
    Versions one = serving(1, ModelSpec.DEFAULT.withBasePath("old").withReplicas(2), 2);
    one.desired(desired(ModelSpec.DEFAULT.withBasePath("old").withReplicas(1)));
    assertEquals(1, one.converge(100, 2, NONE_HERE).retire().size());
    assertFalse(one.keptBeyondCount());
  }

  @Test
  void aReplicaBeyondTheCount_answersUnavailable_retriable_neverNotFound() {
    Versions two = versions(2); // a gateway that counts three workers asks replica 2 of a node that counts two
    two.desired(desired(ModelSpec.DEFAULT.withBasePath("old")));
    two.scanned(scan(OLD, 1), OLD, false, null);
    Versions.Steps steps = two.converge(0, 2, NONE_HERE);
    assertNull(steps.load(), "loads nothing");
    assertTrue(steps.passivate());
    Failure inferred = assertInstanceOf(Failure.class, two.table().resolve(VersionSelector.latest()));
    assertEquals(ErrorCode.UNAVAILABLE, inferred.code());
    assertTrue(inferred.code().retriable());
    Failure status = assertInstanceOf(Failure.class, two.status(VersionSelector.latest()));
    assertEquals(ErrorCode.UNAVAILABLE, status.code(), status.message());
  }

  @Test
  void aModelNobodyServes_isStillNotFound() {
    Versions zero = versions(0);
    zero.desired(new DesiredState(false, new TreeMap<>()));
    zero.scanned(scan(OLD, 1), OLD, false, null);
    zero.converge(0, 2, NONE_HERE);
    assertEquals(ErrorCode.MODEL_NOT_FOUND,
        assertInstanceOf(Failure.class, zero.table().resolve(VersionSelector.latest())).code());
  }

  // ---- case 3: no desired state read ----

  @Test
  void withoutADesiredState_requestsWait_andOnceNoneCouldBeRead_theyAreNotReadyWithTheReason() {
    Versions vs = versions(0);
    vs.scanned(scan(OLD, 1, 2), OLD, true, null);
    assertNull(vs.converge(0, 1, NONE_HERE).load(), "nothing is loaded before a desired state was read");
    assertSame(VersionTable.WAIT, vs.table().resolve(VersionSelector.latest()));
    vs.desiredUnread("no majority answered");
    Failure f = assertInstanceOf(Failure.class, vs.table().resolve(VersionSelector.latest()));
    assertEquals(ErrorCode.MODEL_NOT_READY, f.code());
    assertTrue(f.message().contains("no majority answered"), f.message());
    assertEquals(ErrorCode.MODEL_NOT_READY,
        assertInstanceOf(Failure.class, vs.status(VersionSelector.latest())).code());
    assertNull(vs.converge(1, 1, NONE_HERE).load());
    vs.desired(DesiredState.INITIAL);
    Versions.Steps steps = vs.converge(2, 1, NONE_HERE);
    assertEquals(2, steps.load().version, "once read, it converges");
  }

  // ---- case 5: a base path change ----

  @Test
  void aBasePathChange_loadsTheNewFoldersVersion_whileTheOldOneAnswers_thenRetiresIt() {
    Versions vs = serving(0, ModelSpec.DEFAULT.withBasePath("old"), 1);
    vs.desired(desired(ModelSpec.DEFAULT.withBasePath("new")));
    vs.scanned(scan(NEW, 1), NEW, false, null); // the same number in the new folder
    Versions.Steps steps = vs.converge(100, 1, NONE_HERE);
    assertNotNull(steps.load(), "the new folder's version 1 loads");
    assertEquals(NEW.resolve("1"), steps.load().dir);
    assertEquals(List.of(), steps.retire(), "the old one answers meanwhile");
    assertTrue(vs.table().serving());
    assertEquals(Set.of(1L), vs.table().available().keySet());
    assertTrue(vs.loaded(steps.load(), null));
    steps = vs.converge(200, 1, NONE_HERE);
    assertEquals(1, steps.retire().size(), "retired once the new one is AVAILABLE");
    assertEquals(OLD.resolve("1"), steps.retire().get(0).dir);
    assertTrue(vs.freed(steps.retire().get(0)));
    ModelStatus s = assertInstanceOf(ModelStatus.class, vs.status(VersionSelector.latest()));
    assertEquals(List.of(VersionState.AVAILABLE), s.versions().stream().map(v -> v.state()).toList());
  }

  @Test
  void aNewFolderWhoseVersionFailsToLoad_leavesTheOldOneServing() {
    Versions vs = serving(0, ModelSpec.DEFAULT.withBasePath("old"), 1);
    vs.desired(desired(ModelSpec.DEFAULT.withBasePath("new")));
    vs.scanned(scan(NEW, 3), NEW, false, null);
    Versions.Steps steps = vs.converge(100, 1, NONE_HERE);
    vs.loadFailed(steps.load(), "x", "broken", 100);
    assertEquals(List.of(), vs.converge(200, 1, NONE_HERE).retire());
    assertTrue(vs.table().serving(), "the old folder's version still answers");
    assertEquals(1L, vs.table().latest());
  }

  @Test
  void aNewFolderThatListsEmpty_retiresTheOldVersionsAtOnce_butOneThatCannotBeListed_doesNot() {
    Versions vs = serving(0, ModelSpec.DEFAULT.withBasePath("old"), 1);
    vs.desired(desired(ModelSpec.DEFAULT.withBasePath("new")));
    vs.scanned(scan(NEW), NEW, false, new VersionScanner.ListingError("java.io.IOException: stale handle", 1, 0));
    assertEquals(List.of(), vs.converge(100, 1, NONE_HERE).retire(), "unknown is not empty");
    ModelStatus s = assertInstanceOf(ModelStatus.class, vs.status(VersionSelector.latest()));
    assertTrue(s.versions().get(0).errorMessage().contains("stale handle"), s.toString());
    vs.scanned(scan(NEW), NEW, false, null);
    assertEquals(1, vs.converge(200, 1, NONE_HERE).retire().size());
  }
}
