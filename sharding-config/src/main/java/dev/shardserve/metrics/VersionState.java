package dev.shardserve.metrics;

/**
 * A model version's state on this node, as TF Serving's {@code ModelVersionStatus.State}: the
 * {@code state} label of {@code shardserve_model_version_state} (1 for the current state, 0 for
 * the others). Transitions: START → LOADING → AVAILABLE → UNLOADING → END; a failed load goes
 * LOADING → END (and counts in {@code shardserve_model_load_failures_total}).
 */
public enum VersionState {
  START,
  LOADING,
  AVAILABLE,
  UNLOADING,
  END;

  public String label() {
    return name();
  }
}
