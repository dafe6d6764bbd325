package dev.shardserve.node.entity;

import dev.shardserve.desired.DesiredState;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.metrics.ModelMetrics;
import dev.shardserve.node.lifecycle.VersionPlan;
import dev.shardserve.node.lifecycle.VersionScanner;
import dev.shardserve.node.runtime.LoadedModel;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.ModelStatus;
import dev.shardserve.protocol.ModelProtocol.StatusReply;
import dev.shardserve.protocol.ModelProtocol.VersionState;
import dev.shardserve.protocol.ModelProtocol.VersionStatus;
import dev.shardserve.protocol.VersionSelector;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.IntPredicate;

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
 *
 * <p>A version is its number <em>and</em> its folder: when the model's base path changes, the
 * versions loaded from the old folder are <b>displaced</b> (even where the new folder has the same
 * numbers): they keep answering until a wanted version of the new folder is AVAILABLE, then they
 * are retired (availability first), or at once when the new folder lists fine and holds no
 * version at all.
 *
 * <p>Nothing is served before a desired state was read ({@link #desired(DesiredState)}); while
 * none could be ({@link #desiredUnread}), requests and status queries are answered
 * MODEL_NOT_READY with the reason instead of waiting.
 *
 * <p>A replica numbered beyond its model's replica count is <b>surplus</b>: it serves nothing
 * and answers UNAVAILABLE (another replica serves the model: the gateway retries there). Except
 * that an automatic count that fell because worker nodes went away does not take an AVAILABLE
 * replica out of service: it keeps serving until every replica within the count has served on
 * this node (its replacement) for a grace time in which the gateways learn where it is, and only
 * an explicit count (an admin decision) gives it up at once.
 */
final class Versions {

  /** One version as this replica holds it: a number and the folder it is (to be) loaded from. */
  static final class Slot {
    final long version;
    VersionState state = VersionState.START;
    String error;
    LoadedModel model;
    Path dir;
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
  /** Versions loaded from a previous base path, by number: they answer until the new folder's do. */
  private final TreeMap<Long, Slot> displaced = new TreeMap<>();
  /** Displaced versions pushed out by a later displacement of the same number: retired at the next step. */
  private final List<Slot> pushedOut = new ArrayList<>();
  private DesiredState desired;
  private String desiredUnread;
  private ModelSpec spec;
  private boolean surplus;
  private boolean keptBeyondCount;
  /** Since when the replacements of this replica (beyond the count) serve on this node, or null. */
  private Long replacedAtNanos;
  private final long replacementGraceNanos;
  private VersionScanner.Scan lastScan;
  private Path base;
  private VersionScanner.ListingError listingError;
  private boolean inRepository;
  private Slot loading;
  private Duration nextBackoff;
  private boolean passivating;

  /**
   * @param replacementGrace how long the replacements of a replica kept beyond the count must have
   *     served on this node before it gives up (the gateways learn of them meanwhile)
   */
  Versions(String model, int replica, Duration retryMin, Duration retryMax, ModelMetrics metrics,
      Duration replacementGrace) {
    this.replacementGraceNanos = replacementGrace.toNanos();
    this.model = model;
    this.replica = replica;
    this.metrics = metrics;
    this.retryMin = retryMin;
    this.retryMax = retryMax;
    this.nextBackoff = retryMin;
  }

  /** A desired state that was read (local durable copy, a read from the cluster, or a change). */
  void desired(DesiredState state) {
    this.desired = state;
    this.desiredUnread = null;
  }

  DesiredState desired() {
    return desired;
  }

  /**
   * No desired state could be read ({@code reason} says why): until one is, requests are answered
   * MODEL_NOT_READY with the reason rather than held. Ignored once a state was read.
   */
  void desiredUnread(String reason) {
    if (desired == null) {
      this.desiredUnread = reason;
    }
  }

  /** Moves a slot to {@code state}, and says so in the metrics (shardserve_model_version_state). */
  private void state(Slot slot, VersionState state) {
    slot.state = state;
    Slot current = slots.get(slot.version);
    if (current == null || current == slot) { // a displaced slot does not speak for a current one of that number
      metrics.versionState(slot.version, dev.shardserve.metrics.VersionState.valueOf(state.name()));
    }
  }

  /**
   * A scan of the model's folder {@code base}: a successful one, or the last successful one while
   * {@code listingError} says why the folder cannot be listed (null when it can).
   */
  void scanned(VersionScanner.Scan scan, Path base, boolean inRepository, VersionScanner.ListingError listingError) {
    this.lastScan = scan;
    this.base = base;
    this.inRepository = inRepository;
    this.listingError = listingError;
    for (Slot slot : new ArrayList<>(slots.values())) {
      if (slot.dir != null && !base.equals(slot.dir.getParent())) {
        displace(slot);
        continue;
      }
      VersionScanner.Seen seen = scan.stable().get(slot.version);
      if (seen != null && (slot.dir == null || slot.dir.equals(seen.dir()))) {
        slot.fingerprint = seen.fingerprint();
      }
    }
  }

  /**
   * A slot of another folder than the current base: one that serves (or is being retired) moves
   * aside and answers until the new folder's versions do; any other is dropped (a load in flight
   * finds its slot gone, and its model is closed).
   */
  private void displace(Slot slot) {
    slots.remove(slot.version);
    if (slot.state == VersionState.AVAILABLE || slot.state == VersionState.UNLOADING) {
      Slot before = displaced.put(slot.version, slot);
      if (before != null && before.state == VersionState.AVAILABLE) {
        pushedOut.add(before);
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
    return loading != null;
  }

  Slot slot(long version) {
    return slots.get(version);
  }

  /**
   * True while this replica is beyond its model's automatic replica count (worker nodes went
   * away) and keeps serving until its replacement serves.
   */
  boolean keptBeyondCount() {
    return keptBeyondCount;
  }

  /**
   * Brings the held versions one step closer to the desired ones. {@code workers} decides
   * automatic replica counts; {@code servingHere} says whether a replica of this model serves on
   * this node (the replacements of a replica beyond the count). A replica beyond its model's
   * count serves nothing and passivates, unless it is kept (see the class comment).
   */
  Steps converge(long nowNanos, int workers, IntPredicate servingHere) {
    if (!ready()) {
      return new Steps(null, List.of(), false);
    }
    ModelSpec served = desired.effective(model, inRepository || desired.models().containsKey(model));
    spec = served;
    surplus = false;
    keptBeyondCount = false;
    int count = served == null ? 0 : served.replicasFor(workers);
    if (served == null || replica < count) {
      replacedAtNanos = null;
    } else {
      boolean adminDecision = served.replicas() != ModelSpec.AUTO_REPLICAS || served.stateful();
      boolean replacementsServe = true;
      for (int r = 0; r < count && replacementsServe; r++) {
        replacementsServe = servingHere.test(r);
      }
      if (!replacementsServe) {
        replacedAtNanos = null;
      } else if (replacedAtNanos == null) {
        replacedAtNanos = nowNanos;
      }
      // Given up once the replacements have served for the grace time: long enough for the
      // gateways to learn where they are (a catalog publish and its gossip).
      boolean replaced = replacedAtNanos != null && nowNanos - replacedAtNanos >= replacementGraceNanos;
      if (adminDecision || replaced || !servesAnything()) {
        spec = null;
        surplus = true;
      } else {
        keptBeyondCount = true;
      }
    }
    SortedSet<Long> wanted = wanted();
    Map<Long, VersionPlan.Held> held = new HashMap<>();
    for (Slot s : slots.values()) {
      held.put(s.version, new VersionPlan.Held(s.state, s.retryDue(nowNanos)));
    }
    VersionPlan.Steps steps = VersionPlan.plan(wanted, spec == null ? new TreeSet<>() : lastScan.onDisk(), held,
        loading != null);
    for (Long v : wanted) {
      if (!slots.containsKey(v)) {
        Slot slot = new Slot(v);
        slots.put(v, slot);
        state(slot, VersionState.START);
      }
    }
    List<Slot> retire = new ArrayList<>(pushedOut);
    pushedOut.clear();
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
    if (spec == null || wantedAvailable(wanted) || (listingError == null && lastScan.onDisk().isEmpty())) {
      for (Slot d : displaced.values()) {
        if (d.state == VersionState.AVAILABLE) {
          state(d, VersionState.UNLOADING);
          retire.add(d);
        }
      }
    }
    Slot load = null;
    VersionScanner.Seen seen = steps.load() == null ? null : lastScan.stable().get(steps.load());
    if (seen != null) {
      load = slots.get(steps.load());
      state(load, VersionState.LOADING);
      load.dir = seen.dir();
      load.fingerprint = seen.fingerprint();
      loading = load;
    }
    boolean passivate = false;
    if (spec == null && loading == null && !passivating && !servesAnything() && slots.values().stream()
        .noneMatch(s -> s.state == VersionState.UNLOADING) && displaced.isEmpty()) {
      passivating = true;
      passivate = true;
    } else if (spec != null) {
      passivating = false;
    }
    return new Steps(load, retire, passivate);
  }

  private boolean servesAnything() {
    return slots.values().stream().anyMatch(s -> s.state == VersionState.AVAILABLE)
        || displaced.values().stream().anyMatch(s -> s.state == VersionState.AVAILABLE);
  }

  private boolean wantedAvailable(SortedSet<Long> wanted) {
    for (Long v : wanted) {
      Slot s = slots.get(v);
      if (s != null && s.state == VersionState.AVAILABLE) {
        return true;
      }
    }
    return false;
  }

  private SortedSet<Long> wanted() {
    return spec == null ? new TreeSet<>() : spec.policy().select(new TreeSet<>(lastScan.stable().keySet()));
  }

  /**
   * A load finished: AVAILABLE. False when its slot was forgotten or displaced meanwhile (the
   * caller closes the model).
   */
  boolean loaded(Slot slot, LoadedModel m) {
    if (loading == slot) {
      loading = null;
    }
    if (slots.get(slot.version) != slot || slot.state != VersionState.LOADING) {
      return false;
    }
    state(slot, VersionState.AVAILABLE);
    slot.error = null;
    slot.model = m;
    nextBackoff = retryMin;
    return true;
  }

  /** A load failed: END with the error, retried after the backoff (which doubles) or when its files change. */
  Duration loadFailed(Slot slot, String fingerprint, String error, long nowNanos) {
    if (loading == slot) {
      loading = null;
    }
    Duration backoff = nextBackoff;
    if (slots.get(slot.version) == slot) {
      state(slot, VersionState.END);
      slot.error = error;
      slot.failedFingerprint = fingerprint;
      slot.retryAtNanos = nowNanos + backoff.toNanos();
      nextBackoff = nextBackoff.multipliedBy(2).compareTo(retryMax) <= 0 ? nextBackoff.multipliedBy(2) : retryMax;
    }
    return backoff;
  }

  /** A retired version's session was released: END (a displaced one is forgotten). True when that changed anything. */
  boolean freed(Slot s) {
    if (s.state != VersionState.UNLOADING) {
      return false;
    }
    state(s, VersionState.END);
    s.model = null;
    displaced.remove(s.version, s);
    return true;
  }

  /** Every loaded model, for closing when the replica stops; the slots are emptied. */
  List<LoadedModel> releaseAll() {
    List<LoadedModel> out = new ArrayList<>();
    List<Slot> all = new ArrayList<>(slots.values());
    all.addAll(displaced.values());
    all.addAll(pushedOut);
    for (Slot s : all) {
      if (s.model != null) {
        out.add(s.model);
        s.model = null;
      }
    }
    slots.clear();
    displaced.clear();
    pushedOut.clear();
    return out;
  }

  /** Why this replica cannot answer for the model now, or null: no desired state read, or surplus. */
  private Failure refusal() {
    if (desired == null && desiredUnread != null) {
      return new Failure(ErrorCode.MODEL_NOT_READY, model + " replica " + replica + " serves nothing yet: "
          + desiredUnread);
    }
    if (surplus) {
      return new Failure(ErrorCode.UNAVAILABLE, model + " replica " + replica + " is not one of the model's "
          + "replicas now (it is beyond the replica count); another replica serves it");
    }
    return null;
  }

  /** Why requests that no version answers may still succeed later: the folder cannot be listed now. */
  private String listingNote() {
    if (listingError == null) {
      return null;
    }
    return "the versions of " + model + " in " + base + " cannot be listed (" + listingError.failedScans()
        + " failed scan(s) since " + Instant.ofEpochMilli(listingError.sinceEpochMillis()) + "): "
        + listingError.message() + "; serving what the last successful listing found";
  }

  /** The request path's view of this state. */
  VersionTable table() {
    Failure refused = refusal();
    if (refused != null) {
      return VersionTable.refusing(model, refused);
    }
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
    for (Slot d : displaced.values()) {
      if (d.state == VersionState.AVAILABLE) {
        available.putIfAbsent(d.version, d.model); // the old folder's answers until the new folder's
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
    boolean inProgress = loading != null || anyStart || unstable;
    if (!inProgress) {
      onTheWay.clear(); // nothing is coming: a request for such a version fails instead of waiting
    }
    long latest = -1;
    if (spec != null) {
      SortedSet<Long> wanted = wanted();
      for (Long v : available.descendingKeySet()) {
        if (wanted.contains(v) && slots.containsKey(v) && slots.get(v).state == VersionState.AVAILABLE) {
          latest = v;
          break;
        }
      }
      if (latest < 0 && !available.isEmpty()) {
        latest = available.lastKey();
      }
    }
    return new VersionTable(model, true, spec != null, available, latest,
        spec == null ? Map.of() : Map.copyOf(spec.labels()), Set.copyOf(onTheWay), errors, inProgress,
        listingNote());
  }

  /**
   * TF Serving's status: every version for Latest, one for a version or a label; null while it
   * must wait (the desired state is being read). While the folder cannot be listed, each version
   * that has no error of its own carries that note in its status message.
   */
  StatusReply status(VersionSelector sel) {
    Failure refused = refusal();
    if (refused != null) {
      return refused;
    }
    if (!ready()) {
      return null;
    }
    String note = listingNote();
    if (spec == null && slots.isEmpty() && displaced.isEmpty()) {
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
    TreeSet<Long> numbers = new TreeSet<>(slots.keySet());
    numbers.addAll(displaced.keySet());
    for (Long v : numbers.descendingSet()) {
      if (only != null && only != v.longValue()) {
        continue;
      }
      for (Slot s : new Slot[] {slots.get(v), displaced.get(v)}) {
        if (s != null) {
          String message = s.error != null ? s.error : note;
          out.add(new VersionStatus(s.version, s.state, s.error == null ? null : ErrorCode.MODEL_LOAD_FAILED, message));
        }
      }
    }
    if (out.isEmpty() && note != null) {
      return new Failure(ErrorCode.MODEL_NOT_READY, note);
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
