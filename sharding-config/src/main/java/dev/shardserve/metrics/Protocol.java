package dev.shardserve.metrics;

/** The wire API a request came in on: the {@code protocol} label of the request families. */
public enum Protocol {
  /** TensorFlow Serving's REST API ({@code /v1/models/...}). */
  REST_V1("rest_v1"),
  /** The Open Inference Protocol v2 over HTTP ({@code /v2/...}). */
  REST_V2("rest_v2"),
  /** gRPC: TF Serving's PredictionService and KServe v2's GRPCInferenceService. */
  GRPC("grpc");

  private final String label;

  Protocol(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }

  /** The {@code code} label of an answer: HTTP status as a string, or the gRPC code's name (bounded). */
  public String codeLabel(int code) {
    return CodeLabel.of(this, code);
  }
}
