package dev.shardserve.metrics;

/**
 * What a request asked for: the {@code api} label of {@code shardserve_requests_total}. Only the
 * inference calls are timed in {@code shardserve_request_duration_seconds}: a status or metadata
 * answer costs microseconds and would pull a model's latency quantiles down.
 */
public enum Api {
  PREDICT("predict", true),
  CLASSIFY("classify", true),
  REGRESS("regress", true),
  MULTI_INFERENCE("multi_inference", true),
  /** Open Inference Protocol v2 {@code /infer}. */
  INFER("infer", true),
  METADATA("metadata", false),
  STATUS("status", false),
  READY("ready", false);

  private final String label;
  private final boolean inference;

  Api(String label, boolean inference) {
    this.label = label;
    this.inference = inference;
  }

  public String label() {
    return label;
  }

  /** True for the calls that run a model (timed in the request duration histogram). */
  public boolean inference() {
    return inference;
  }
}
