package dev.shardserve.node.entity;

import dev.shardserve.node.runtime.LoadedModel;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.VersionSelector;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

/**
 * What one replica serves, frozen: the AVAILABLE versions with their loaded models, which one
 * answers requests that name no version, the labels, and which versions are still on their way.
 * The replica actor builds a new table on every change and publishes it with one volatile write;
 * the request path resolves a selector against the table it read, so a request never meets a
 * half-swapped replica.
 *
 * @param ready false until the replica has read its desired state and scanned its folder
 * @param served false when the desired state does not serve this model (or this replica)
 * @param latest the version for requests naming none, or -1
 * @param onTheWay versions loading, due to load, or whose folder is not yet stable: requests for
 *     them wait instead of failing
 * @param errors load errors of versions that ended in a failure
 * @param inProgress true while any version is on its way (then a request naming no version waits
 *     rather than failing when none is AVAILABLE)
 * @param listingNote why the model's folder cannot be listed now, or null: a request that no
 *     version answers is then MODEL_NOT_READY with this note (the version may well exist)
 * @param refusal the answer to every request, or null: the replica has no desired state to serve
 *     (MODEL_NOT_READY with the reason) or is not one of the model's replicas now (UNAVAILABLE:
 *     another replica serves the model)
 */
record VersionTable(
    String model,
    boolean ready,
    boolean served,
    NavigableMap<Long, LoadedModel> available,
    long latest,
    Map<String, Long> labels,
    Set<Long> onTheWay,
    NavigableMap<Long, String> errors,
    boolean inProgress,
    String listingNote,
    Failure refusal) {

  VersionTable(String model, boolean ready, boolean served, NavigableMap<Long, LoadedModel> available, long latest,
      Map<String, Long> labels, Set<Long> onTheWay, NavigableMap<Long, String> errors, boolean inProgress) {
    this(model, ready, served, available, latest, labels, onTheWay, errors, inProgress, null, null);
  }

  VersionTable(String model, boolean ready, boolean served, NavigableMap<Long, LoadedModel> available, long latest,
      Map<String, Long> labels, Set<Long> onTheWay, NavigableMap<Long, String> errors, boolean inProgress,
      String listingNote) {
    this(model, ready, served, available, latest, labels, onTheWay, errors, inProgress, listingNote, null);
  }

  /** Before the replica knows anything: every request waits. */
  static VersionTable waiting(String model) {
    return new VersionTable(model, false, false, new TreeMap<>(), -1, Map.of(), Set.of(), new TreeMap<>(), true);
  }

  /** Every request is answered {@code refusal}: nothing is served, and nothing waits. */
  static VersionTable refusing(String model, Failure refusal) {
    return new VersionTable(model, true, false, new TreeMap<>(), -1, Map.of(), Set.of(), new TreeMap<>(), false,
        null, refusal);
  }

  /** What {@link #resolve} answers when the request must wait for a version still on its way. */
  static final Object WAIT = new Object();

  boolean serving() {
    return ready && served && !available.isEmpty();
  }

  /** The AVAILABLE version's model, a {@link Failure}, or {@link #WAIT}. */
  Object resolve(VersionSelector selector) {
    if (refusal != null) {
      return refusal;
    }
    if (!ready) {
      return WAIT;
    }
    if (!served) {
      return new Failure(ErrorCode.MODEL_NOT_FOUND, "Servable not found for request: " + selector.describe(model));
    }
    if (selector instanceof VersionSelector.Specific sp) {
      return version(sp.version(), () -> new Failure(ErrorCode.VERSION_NOT_FOUND,
          "Servable not found for request: " + sp.describe(model)));
    }
    if (selector instanceof VersionSelector.Label l) {
      Long v = labels.get(l.label());
      if (v == null) {
        return new Failure(ErrorCode.LABEL_NOT_FOUND, "Unrecognized servable version label: " + l.label());
      }
      return version(v, () -> new Failure(ErrorCode.LABEL_NOT_FOUND, "Label '" + l.label() + "' of model " + model
          + " points at version " + v + ", which is not AVAILABLE"));
    }
    if (latest >= 0) {
      return available.get(latest);
    }
    if (inProgress) {
      return WAIT;
    }
    if (!errors.isEmpty()) {
      Map.Entry<Long, String> e = errors.lastEntry();
      return new Failure(ErrorCode.MODEL_LOAD_FAILED, model + " version " + e.getKey() + " failed to load: "
          + e.getValue());
    }
    return notFound(new Failure(ErrorCode.MODEL_NOT_FOUND, "Servable not found for request: "
        + selector.describe(model)));
  }

  /** {@code failure}, or MODEL_NOT_READY with the listing note while the folder cannot be listed. */
  private Failure notFound(Failure failure) {
    return listingNote == null ? failure : new Failure(ErrorCode.MODEL_NOT_READY, listingNote);
  }

  private Object version(long v, java.util.function.Supplier<Failure> notThere) {
    LoadedModel m = available.get(v);
    if (m != null) {
      return m;
    }
    if (onTheWay.contains(v)) {
      return WAIT;
    }
    String error = errors.get(v);
    if (error != null) {
      return new Failure(ErrorCode.MODEL_LOAD_FAILED, model + " version " + v + " failed to load: " + error);
    }
    return notFound(notThere.get());
  }
}
