package dev.shardserve.metrics;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.datapoints.GaugeDataPoint;
import java.util.ArrayDeque;

/**
 * One model's recording handle: every data point of the model's series resolved once, so that
 * recording on the request path is a few atomic adds, with no label lookup, no lock and no
 * allocation (the request counter finds its data point in {@link RequestSeries}' immutable
 * table). Obtain it with {@link ShardServeMetrics#model(String)} and keep it where the request
 * path keeps the model's other state (routing entry, handle); it is thread-safe and lives as long
 * as the process. Creating it sets every refusal and retry reason to 0 and creates the empty
 * histograms, so a model's families exist from its first request.
 *
 * <p>Durations are {@code long} nanoseconds from a monotonic clock ({@code System.nanoTime}
 * differences); they are exposed in seconds. Versions are TF Serving's {@code int64} versions;
 * {@link #NO_VERSION} (a request refused or failed before a version was chosen) is the label
 * {@code version=""}.
 */
public final class ModelMetrics {
  /** The version of a request that never reached one: exposed as {@code version=""}. */
  public static final long NO_VERSION = -1;

  private static final double NANOS_PER_SECOND = 1e9;

  private final ShardServeMetrics metrics;
  private final String model;
  private final RequestSeries requests;
  private final DistributionDataPoint[] requestDuration;
  private final DistributionDataPoint queueDuration;
  private final DistributionDataPoint computeDuration;
  private final DistributionDataPoint batchSize;
  private final CounterDataPoint paddingRows;
  private final CounterDataPoint[] refused;
  private final CounterDataPoint[] retries;
  private final GaugeDataPoint inflight;
  private final DistributionDataPoint loadDuration;
  private final CounterDataPoint loadFailures;
  /** Resolved at the first {@link #admissionLimit}: a node that admits nothing shows no series. */
  private volatile GaugeDataPoint admissionLimit;
  /** Versions that reached END, oldest first; guarded by {@code this}. */
  private final ArrayDeque<Long> ended = new ArrayDeque<>();

  ModelMetrics(ShardServeMetrics metrics, String model) {
    this.metrics = metrics;
    this.model = model;
    this.requests = new RequestSeries(metrics.requests, model);
    Protocol[] protocols = Protocol.values();
    this.requestDuration = new DistributionDataPoint[protocols.length];
    for (Protocol p : protocols) {
      requestDuration[p.ordinal()] = metrics.requestDuration.labelValues(model, p.label());
    }
    this.queueDuration = metrics.queueDuration.labelValues(model);
    this.computeDuration = metrics.computeDuration.labelValues(model);
    this.batchSize = metrics.batchSize.labelValues(model);
    this.paddingRows = metrics.paddingRows.labelValues(model);
    RefusalReason[] reasons = RefusalReason.values();
    this.refused = new CounterDataPoint[reasons.length];
    for (RefusalReason r : reasons) {
      refused[r.ordinal()] = metrics.refused.labelValues(model, r.label());
    }
    RetryReason[] retryReasons = RetryReason.values();
    this.retries = new CounterDataPoint[retryReasons.length];
    for (RetryReason r : retryReasons) {
      retries[r.ordinal()] = metrics.retries.labelValues(model, r.label());
    }
    this.inflight = metrics.inflight.labelValues(model);
    this.loadDuration = metrics.loadDuration.labelValues(model);
    this.loadFailures = metrics.loadFailures.labelValues(model);
  }

  /** The {@code model} label: the name, or {@code ""} for the handle of unknown models. */
  public String model() {
    return model;
  }

  // ---- request path (HTTP/gRPC completion, gateway routing, node runtime threads) ----

  /**
   * A request was answered: counts {@code shardserve_requests_total{model, version, protocol,
   * api, code}} and, for inference APIs, observes {@code shardserve_request_duration_seconds}.
   * Call once per request, when its answer is handed to the HTTP layer (gRPC: when the call is
   * closed), for successes, errors and refusals alike.
   *
   * @param code the HTTP status (REST) or the gRPC status code's number (gRPC)
   * @param version the version that answered, or {@link #NO_VERSION}
   * @param durationNanos from the request's arrival to its answer
   */
  public void requestAnswered(Protocol protocol, Api api, int code, long version, long durationNanos) {
    requests.get(version, protocol, api, code).inc();
    if (api.inference()) {
      requestDuration[protocol.ordinal()].observe(durationNanos / NANOS_PER_SECOND);
    }
  }

  /** A request entered this process's in-flight set (admitted at the gateway, or accepted into a node's queue). */
  public void inflightIncrement() {
    inflight.inc();
  }

  /** A request counted by {@link #inflightIncrement()} was answered (exactly once per increment). */
  public void inflightDecrement() {
    inflight.dec();
  }

  /** The request waited {@code nanos} in the node's batch queue before a runtime thread took it. */
  public void queueWaited(long nanos) {
    queueDuration.observe(nanos / NANOS_PER_SECOND);
  }

  /**
   * A batch ran: {@code rows} real rows (padding excluded; a request run alone with one row
   * records 1), {@code paddingRows} rows added to reach an allowed batch size, and the time of
   * the TensorFlow call for the whole batch. Call once per batch, from the runtime thread.
   */
  public void batchRan(int rows, int paddingRows, long computeNanos) {
    batchSize.observe(rows);
    if (paddingRows > 0) {
      this.paddingRows.inc(paddingRows);
    }
    computeDuration.observe(computeNanos / NANOS_PER_SECOND);
  }

  /** A request was refused without running. */
  public void refused(RefusalReason reason) {
    refused[reason.ordinal()].inc();
  }

  /** The gateway sent a request to another replica after this failure of the previous attempt. */
  public void retried(RetryReason reason) {
    retries[reason.ordinal()].inc();
  }

  /** The gateway's adaptive concurrency limit for the model changed (or is sampled). */
  public void admissionLimit(int limit) {
    GaugeDataPoint g = admissionLimit;
    if (g == null) {
      g = metrics.admissionLimit.labelValues(model);
      admissionLimit = g;
    }
    g.set(limit);
  }

  // ---- control plane (the replica actor and its loader; not on the request path) ----

  /**
   * {@code version} of the model is now in {@code state} on this node: sets its state series to 1
   * and the other states of that version to 0. The series of the most recent
   * {@code ended-versions-kept} versions in END are kept; older ones are removed.
   */
  public synchronized void versionState(long version, VersionState state) {
    String v = versionLabel(version);
    for (VersionState s : VersionState.values()) {
      metrics.versionState.labelValues(model, v, s.label()).set(s == state ? 1 : 0);
    }
    ended.remove(version);
    if (state == VersionState.END) {
      ended.addLast(version);
      while (ended.size() > metrics.settings().endedVersionsKept()) {
        String old = versionLabel(ended.removeFirst());
        for (VersionState s : VersionState.values()) {
          metrics.versionState.remove(model, old, s.label());
        }
      }
    }
  }

  /** A version loaded (read, session created, warmed up) in {@code nanos}. */
  public void loaded(long nanos) {
    loadDuration.observe(nanos / NANOS_PER_SECOND);
  }

  /** A version failed to load (each failed attempt counts once). */
  public void loadFailed() {
    loadFailures.inc();
  }

  static String versionLabel(long version) {
    return version == NO_VERSION ? "" : Long.toString(version);
  }

  @Override
  public String toString() {
    return "ModelMetrics[" + model + "]";
  }
}
