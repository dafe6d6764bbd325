package dev.shardserve.node.entity;

import dev.shardserve.desired.DesiredState;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.node.lifecycle.VersionPlan;
import dev.shardserve.node.lifecycle.VersionScanner;
import dev.shardserve.metrics.ModelMetrics;
import dev.shardserve.node.runtime.LoadedModel;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.ModelStatus;
import dev.shardserve.protocol.ModelProtocol.StatusReply;
import dev.shardserve.protocol.ModelProtocol.VersionState;
import dev.shardserve.protocol.ModelProtocol.VersionStatus;
import dev.shardserve.protocol.VersionSelector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The versions one replica holds, each in TF Serving's states (START, LOADING, AVAILABLE,
 * UNLOADING, END), and the rules that move them toward the desired ones, as plain logic driven by
 * the replica actor with the time passed in (no actor, no TensorFlow, no clock of its own):
 * <ul>
 *   <li>{@link #converge} picks the next step from the spec, the last scan and what is held
 *       ({@link VersionPlan}): load one version at a time, retire one that is no longer wanted
 *       once a wanted one is AVAILABLE, forget ended versions whose folder is gone;</li>
 *   <li>{@link #loaded}, {@link #loadFailed} (retried with exponential backoff, or at once when
 *       the folder's files change) and {@link #freed} record what the loads and retirements did;</li>
 *   <li>{@link #table} freezes the result for the request path, {@link #status} answers TF
 *       Serving's status query.</li>
 * </ul>
 * Transitions: START → LOADING → AVAILABLE → UNLOADING → END; LOADING → END (failed, with its
 * error; later START again when a retry is due).
 */
final class Versions {

  /** One version as this replica holds it. */
  static final class Slot {
    final long version;
    VersionState state = VersionState.START;
    String error;
    LoadedModel model;
    String fingerprint;
    String failedFingerprint;
    long retryAtNanos;

    Slot(long version) {
      this.version = version;
    }

    boolean retryDue(long nowNanos) {
      return error == null || nowNanos - retryAtNanos >= 0
          || (fingerprint != null && !fingerprint.equals(failedFingerprint));
    }
  }

  /** What the actor must do after a convergence step. */
  record Steps(Slot load, List<Slot> retire, boolean passivate) {}

  private final String model;
  private final int replica;
  private final ModelMetrics metrics;
  private final Duration retryMin;
  private final Duration retryMax;
  private final TreeMap<Long, Slot> slots = new TreeMap<>();
  private DesiredState desired;
  private ModelSpec spec;
  private VersionScanner.Scan lastScan;
  private boolean inRepository;
  private Long loadingVersion;
  private Duration nextBackoff;
  private boolean passivating;

  Versions(String model, int replica, Duration retryMin, Duration retryMax, ModelMetrics metrics) {
    this.model = model;
    this.replica = replica;
    this.metrics = metrics;
    this.retryMin = retryMin;
    this.retryMax = retryMax;
    this.nextBackoff = retryMin;
  }

  void desired(DesiredState state) {
    this.desired = state;
  }

  DesiredState desired() {
    return desired;
  }

  /** Moves a slot to {@code state}, and says so in the metrics (shardserve_model_version_state). */
  private void state(Slot slot, VersionState state) {
    slot.state = state;
    metrics.versionState(slot.version, dev.shardserve.metrics.VersionState.valueOf(state.name()));
  }

  /** A successful scan of the model's folder. */
  void scanned(VersionScanner.Scan scan, boolean inRepository) {
    this.lastScan = scan;
    this.inRepository = inRepository;
    for (Slot slot : slots.values()) {
      VersionScanner.Seen seen = scan.stable().get(slot.version);
      if (seen != null) {
        slot.fingerprint = seen.fingerprint();
      }
    }
  }

  /** True once the replica has read its desired state and scanned its folder. */
  boolean ready() {
    return desired != null && lastScan != null;
  }

  /** The spec this replica serves, or null when the model (or this replica) is not served. */
  ModelSpec spec() {
    return spec;
  }

  VersionScanner.Scan lastScan() {
    return lastScan;
  }

  boolean loading() {
    return loadingVersion != null;
  }

  Slot slot(long version) {
    return slots.get(version);
  }

  /**
   * Brings the held versions one step closer to the desired ones. {@code workersUp} decides
   * automatic replica counts; a replica beyond its model's count serves nothing and passivates.
   */
  Steps converge(long nowNanos, int workersUp) {
    if (!ready()) {
      return new Steps(null, List.of(), false);
    }
    spec = desired.effective(model, inRepository || desired.models().containsKey(model));
    if (spec != null && replica >= spec.replicasFor(workersUp)) {
      spec = null;
    }
    SortedSet<Long> wanted = wanted();
    Map<Long, VersionPlan.Held> held = new HashMap<>();
    for (Slot s : slots.values()) {
      held.put(s.version, new VersionPlan.Held(s.state, s.retryDue(nowNanos)));
    }
    VersionPlan.Steps steps = VersionPlan.plan(wanted, spec == null ? new TreeSet<>() : lastScan.onDisk(), held,
        loadingVersion != null);
    for (Long v : wanted) {
      if (!slots.containsKey(v)) {
        Slot slot = new Slot(v);
        slots.put(v, slot);
        state(slot, VersionState.START);
      }
    }
    List<Slot> retire = new ArrayList<>();
    for (Long v : steps.retire()) {
      Slot s = slots.get(v);
      state(s, VersionState.UNLOADING);
      retire.add(s);
    }
    for (Long v : steps.forget()) {
      Slot gone = slots.remove(v);
      if (gone != null && gone.state != VersionState.END) {
        state(gone, VersionState.END);
      }
    }
    Slot load = null;
    if (steps.load() != null && lastScan.stable().containsKey(steps.load())) {
      load = slots.get(steps.load());
      state(load, VersionState.LOADING);
      load.fingerprint = lastScan.stable().get(load.version).fingerprint();
      loadingVersion = load.version;
    }
    boolean passivate = false;
    if (spec == null && loadingVersion == null && !passivating && slots.values().stream()
        .noneMatch(s -> s.state == VersionState.UNLOADING || s.state == VersionState.AVAILABLE)) {
      passivating = true;
      passivate = true;
    } else if (spec != null) {
      passivating = false;
    }
    return new Steps(load, retire, passivate);
  }

  private SortedSet<Long> wanted() {
    return spec == null ? new TreeSet<>() : spec.policy().select(new TreeSet<>(lastScan.stable().keySet()));
  }

  /** A load finished: AVAILABLE. False when the version was forgotten meanwhile (the caller closes the model). */
  boolean loaded(long version, LoadedModel m) {
    loadingVersion = null;
    Slot slot = slots.get(version);
    if (slot == null) {
      return false;
    }
    state(slot, VersionState.AVAILABLE);
    slot.error = null;
    slot.model = m;
    nextBackoff = retryMin;
    return true;
  }

  /** A load failed: END with the error, retried after the backoff (which doubles) or when its files change. */
  Duration loadFailed(long version, String fingerprint, String error, long nowNanos) {
    loadingVersion = null;
    Duration backoff = nextBackoff;
    Slot slot = slots.get(version);
    if (slot != null) {
      state(slot, VersionState.END);
      slot.error = error;
      slot.failedFingerprint = fingerprint;
      slot.retryAtNanos = nowNanos + backoff.toNanos();
      nextBackoff = nextBackoff.multipliedBy(2).compareTo(retryMax) <= 0 ? nextBackoff.multipliedBy(2) : retryMax;
    }
    return backoff;
  }

  /** A retired version's session was released: END. True when that changed anything. */
  boolean freed(long version) {
    Slot s = slots.get(version);
    if (s != null && s.state == VersionState.UNLOADING) {
      state(s, VersionState.END);
      s.model = null;
      return true;
    }
    return false;
  }

  /** Every loaded model, for closing when the replica stops; the slots are emptied. */
  List<LoadedModel> releaseAll() {
    List<LoadedModel> out = new ArrayList<>();
    for (Slot s : slots.values()) {
      if (s.model != null) {
        out.add(s.model);
        s.model = null;
      }
    }
    slots.clear();
    return out;
  }

  /** The request path's view of this state. */
  VersionTable table() {
    if (!ready()) {
      return VersionTable.waiting(model);
    }
    TreeMap<Long, LoadedModel> available = new TreeMap<>();
    TreeMap<Long, String> errors = new TreeMap<>();
    Set<Long> onTheWay = new HashSet<>();
    boolean anyStart = false;
    for (Slot s : slots.values()) {
      if (s.state == VersionState.AVAILABLE) {
        available.put(s.version, s.model);
      } else if (s.state == VersionState.LOADING || s.state == VersionState.START) {
        onTheWay.add(s.version);
        anyStart |= s.state == VersionState.START;
      }
      if (s.error != null && s.state == VersionState.END) {
        errors.put(s.version, s.error);
      }
    }
    boolean unstable = false;
    for (Long v : lastScan.onDisk()) {
      if (!lastScan.stable().containsKey(v)) {
        unstable = true;
        if (!slots.containsKey(v)) {
          onTheWay.add(v);
        }
      }
    }
    boolean inProgress = loadingVersion != null || anyStart || unstable;
    if (!inProgress) {
      onTheWay.clear(); // nothing is coming: a request for such a version fails instead of waiting
    }
    long latest = -1;
    if (spec != null) {
      SortedSet<Long> wanted = wanted();
      for (Long v : available.descendingKeySet()) {
        if (wanted.contains(v)) {
          latest = v;
          break;
        }
      }
      if (latest < 0 && !available.isEmpty()) {
        latest = available.lastKey();
      }
    }
    return new VersionTable(model, true, spec != null, available, latest,
        spec == null ? Map.of() : Map.copyOf(spec.labels()), Set.copyOf(onTheWay), errors, inProgress);
  }

  /** TF Serving's status: every version for Latest, one for a version or a label; null while not ready. */
  StatusReply status(VersionSelector sel) {
    if (!ready()) {
      return null;
    }
    if (spec == null && slots.isEmpty()) {
      return new Failure(ErrorCode.MODEL_NOT_FOUND, "Servable not found for request: " + sel.describe(model));
    }
    Long only = null;
    if (sel instanceof VersionSelector.Specific sp) {
      only = sp.version();
    } else if (sel instanceof VersionSelector.Label l) {
      only = spec == null ? null : spec.labels().get(l.label());
      if (only == null) {
        return new Failure(ErrorCode.LABEL_NOT_FOUND, "Unrecognized servable version label: " + l.label());
      }
    }
    List<VersionStatus> out = new ArrayList<>();
    for (Slot s : slots.descendingMap().values()) {
      if (only == null || only == s.version) {
        out.add(new VersionStatus(s.version, s.state, s.error == null ? null : ErrorCode.MODEL_LOAD_FAILED, s.error));
      }
    }
    if (out.isEmpty() && only == null && spec != null) {
      return new ModelStatus(out, lastScan.onDisk()); // served, nothing loaded yet
    }
    if (out.isEmpty()) {
      return new Failure(only != null ? ErrorCode.VERSION_NOT_FOUND : ErrorCode.MODEL_NOT_FOUND,
          only != null ? "Could not find version " + only + " of model " + model
              : "Could not find any versions of model " + model);
    }
    return new ModelStatus(out, lastScan.onDisk());
  }
}
