package dev.shardserve.logging;

import java.time.Duration;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Model and node lifecycle events, one structured line each on the logger
 * {@code shardserve.lifecycle} ({@code event=version_loaded model=m version=3 duration_ms=812};
 * in JSON, each field is a field). Failures, downing and unreachability are WARN, the rest INFO.
 * Node events come from the metrics extension's cluster listener; version events are written by
 * the replica actor (load, progress, swap, retire, failure) and drains by whoever starts one.
 */
public final class LifecycleLog {
  public static final String LOGGER = "shardserve.lifecycle";

  private final Logger log;

  private LifecycleLog(Logger log) {
    this.log = log;
  }

  public static LifecycleLog create() {
    return new LifecycleLog(LoggerFactory.getLogger(LOGGER));
  }

  // ---- model versions (node) ----

  public void versionLoading(String model, long version) {
    StructuredLine.event("version_loading").add(MdcKeys.MODEL, model).add(MdcKeys.VERSION, version).info(log);
  }

  /**
   * A long load's progress, for a person watching: {@code phase} is {@code reading},
   * {@code warming_up}, ...; {@code done} of {@code total} steps (warm-up runs), or 0 of 0 when the
   * phase has no steps. Write it every couple of seconds while a load runs, not per step.
   */
  public void versionLoadProgress(String model, long version, String phase, int done, int total) {
    StructuredLine.event("version_load_progress").add(MdcKeys.MODEL, model).add(MdcKeys.VERSION, version)
        .add("phase", phase).add("done", done).add("total", total).info(log);
  }

  public void versionLoaded(String model, long version, Duration took) {
    StructuredLine.event("version_loaded").add(MdcKeys.MODEL, model).add(MdcKeys.VERSION, version)
        .add("duration_ms", took.toMillis()).info(log);
  }

  /** {@code error}: the failure's message (a path or a TensorFlow status), never tensor values. */
  public void versionLoadFailed(String model, long version, String error) {
    StructuredLine.event("version_load_failed").add(MdcKeys.MODEL, model).add(MdcKeys.VERSION, version)
        .add("error", error).warn(log);
  }

  /** The serving version changed atomically ({@code fromVersion} -1 when nothing served before). */
  public void versionSwapped(String model, long fromVersion, long toVersion) {
    StructuredLine.event("version_swapped").add(MdcKeys.MODEL, model)
        .add("from_version", fromVersion < 0 ? "" : Long.toString(fromVersion)).add("to_version", toVersion).info(log);
  }

  /** A version stopped serving and released its session (state END). */
  public void versionRetired(String model, long version) {
    StructuredLine.event("version_retired").add(MdcKeys.MODEL, model).add(MdcKeys.VERSION, version).info(log);
  }

  // ---- drain ----

  /** A node started draining: {@code reason} is who asked (admin API, SIGTERM, the gateway). */
  public void drainStarted(String node, String reason) {
    StructuredLine.event("drain_started").add("node", node).add("reason", reason).info(log);
  }

  /** A node finished its queued work and handed its replicas off. */
  public void drainFinished(String node, Duration took) {
    StructuredLine.event("drain_finished").add("node", node).add("duration_ms", took.toMillis()).info(log);
  }

  // ---- cluster members ----

  public void nodeJoined(String node, Set<String> roles) {
    StructuredLine.event("node_joined").add("node", node).add("roles", String.join(",", roles)).info(log);
  }

  public void nodeLeaving(String node, Set<String> roles) {
    StructuredLine.event("node_leaving").add("node", node).add("roles", String.join(",", roles)).info(log);
  }

  public void nodeDowned(String node, Set<String> roles) {
    StructuredLine.event("node_downed").add("node", node).add("roles", String.join(",", roles)).warn(log);
  }

  /** The member was removed from the cluster ({@code previousStatus}: exiting after a leave, down after a crash). */
  public void nodeLeft(String node, Set<String> roles, String previousStatus) {
    StructuredLine.event("node_left").add("node", node).add("roles", String.join(",", roles))
        .add("previous_status", previousStatus).info(log);
  }

  public void nodeUnreachable(String node, Set<String> roles) {
    StructuredLine.event("node_unreachable").add("node", node).add("roles", String.join(",", roles)).warn(log);
  }

  public void nodeReachable(String node, Set<String> roles) {
    StructuredLine.event("node_reachable").add("node", node).add("roles", String.join(",", roles)).info(log);
  }
}
