package dev.shardserve.metrics;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import akka.actor.typed.Props;
import com.typesafe.config.Config;
import dev.shardserve.logging.LifecycleLog;
import dev.shardserve.protocol.ModelName;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.instrumentation.jvm.JvmBufferPoolMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmClassLoadingMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmCompilationMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmGarbageCollectorMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmMemoryMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmNativeMemoryMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmRuntimeInfoMetric;
import io.prometheus.metrics.instrumentation.jvm.JvmThreadsMetrics;
import io.prometheus.metrics.instrumentation.jvm.ProcessMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The metrics of one process (an Akka {@link Extension}: one per ActorSystem, no static state):
 * a {@link PrometheusRegistry} holding every {@code shardserve_*} family, the JVM's and the
 * process's metrics, and per-model recording handles ({@link ModelMetrics}). Node and gateway
 * register the same families, so a dashboard query works on any process; each fills the series
 * of the events it sees. The registry is served by the metrics listener ({@code GET /metrics}).
 *
 * <p>Which event calls what ({@code m = ShardServeMetrics.get(system).model(name)}, looked up
 * once per model and kept with the model's routing or handle state):
 * <table>
 *   <caption>Recording API</caption>
 *   <tr><th>event</th><th>where</th><th>call</th><th>family</th></tr>
 *   <tr><td>request answered (any status, refusals too)</td><td>gateway/standalone: HTTP completion;
 *     gRPC: call closed</td><td>{@code m.requestAnswered(protocol, api, code, version, nanos)}</td>
 *     <td>{@code shardserve_requests_total}, {@code shardserve_request_duration_seconds}</td></tr>
 *   <tr><td>request names a model that does not exist</td><td>gateway</td>
 *     <td>{@code unknownModel().requestAnswered(...)} (label {@code model=""})</td><td>same</td></tr>
 *   <tr><td>request admitted / answered</td><td>gateway: admission and completion; node: queue
 *     accept and completion</td><td>{@code m.inflightIncrement()} / {@code m.inflightDecrement()}</td>
 *     <td>{@code shardserve_inflight_requests}</td></tr>
 *   <tr><td>adaptive limit changed</td><td>gateway admission</td><td>{@code m.admissionLimit(limit)}</td>
 *     <td>{@code shardserve_admission_limit}</td></tr>
 *   <tr><td>request refused without running</td><td>where it is refused</td>
 *     <td>{@code m.refused(RefusalReason.X)}</td><td>{@code shardserve_refused_total}</td></tr>
 *   <tr><td>attempt failed, sent to another replica</td><td>gateway routing</td>
 *     <td>{@code m.retried(RetryReason.X)}</td><td>{@code shardserve_retries_total}</td></tr>
 *   <tr><td>request taken from the batch queue</td><td>node runtime thread</td>
 *     <td>{@code m.queueWaited(nanos)}</td><td>{@code shardserve_queue_duration_seconds}</td></tr>
 *   <tr><td>batch ran</td><td>node runtime thread</td><td>{@code m.batchRan(rows, paddingRows, computeNanos)}</td>
 *     <td>{@code shardserve_batch_size}, {@code shardserve_batch_padding_rows_total},
 *     {@code shardserve_compute_duration_seconds}</td></tr>
 *   <tr><td>version state changed</td><td>replica actor</td><td>{@code m.versionState(version, VersionState.X)}</td>
 *     <td>{@code shardserve_model_version_state}</td></tr>
 *   <tr><td>version loaded / load failed</td><td>replica actor (the load's result)</td>
 *     <td>{@code m.loaded(nanos)} / {@code m.loadFailed()}</td><td>{@code shardserve_model_load_duration_seconds},
 *     {@code shardserve_model_load_failures_total}</td></tr>
 *   <tr><td>hosted replicas changed</td><td>node's catalog publisher</td><td>{@link #replicas}</td>
 *     <td>{@code shardserve_replicas_hosted}, {@code shardserve_replicas_desired}</td></tr>
 *   <tr><td>member event</td><td>this extension's cluster listener</td><td>(itself)</td>
 *     <td>{@code shardserve_cluster_members}</td></tr>
 * </table>
 *
 * <p>Cost: {@code requestAnswered} is one counter add and one histogram observation; the other
 * request-path calls are one atomic add each. Everything one request records, batch share
 * included, measured 133 ns with JMH ({@code perf/.../jmh/MetricsRecordingBench}). Label values come from closed sets (enums, the server's own
 * versions, model names that exist); beyond {@code max-models} names, {@link #model} returns
 * the {@code model=""} handle.
 */
public final class ShardServeMetrics implements Extension {
  public static final class Id extends ExtensionId<ShardServeMetrics> {
    @Override
    public ShardServeMetrics createExtension(ActorSystem<?> system) {
      Config config = system.settings().config();
      ShardServeMetrics metrics = create(MetricsSettings.fromConfig(config.getConfig("shardserve.metrics")));
      String provider = config.getString("akka.actor.provider");
      if (provider.equals("cluster") || provider.contains("Cluster")) {
        system.systemActorOf(ClusterMembersListener.create(metrics, LifecycleLog.create()),
            "shardserve-cluster-members", Props.empty());
      }
      return metrics;
    }
  }

  public static final Id ID = new Id();

  private static final Logger log = LoggerFactory.getLogger(ShardServeMetrics.class);

  private final MetricsSettings settings;
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final ConcurrentHashMap<String, ModelMetrics> models = new ConcurrentHashMap<>();
  /** Created at its first use, so that a process that never saw an unknown name has no model="" series. */
  private volatile ModelMetrics unknownModel;
  private boolean warnedMaxModels;

  final Counter requests;
  final Histogram requestDuration;
  final Histogram queueDuration;
  final Histogram computeDuration;
  final Histogram batchSize;
  final Counter paddingRows;
  final Counter refused;
  final Counter retries;
  final Gauge inflight;
  final Gauge admissionLimit;
  final Gauge versionState;
  final Histogram loadDuration;
  final Counter loadFailures;
  final Gauge clusterMembers;
  final Gauge replicasHosted;
  final Gauge replicasDesired;

  /** Guarded by {@code this}: label values ever set, so that a vanished one is set back to 0. */
  private final Map<List<String>, Integer> lastMembers = new HashMap<>();
  private final Map<String, Integer> lastHosted = new HashMap<>();
  private final Map<String, Integer> lastDesired = new HashMap<>();

  private ShardServeMetrics(MetricsSettings settings, OptionalLong memoryLimitBytes) {
    this.settings = settings;
    requests = Counter.builder().name("shardserve_requests_total")
        .help("Requests answered, by model, version, protocol (rest_v1, rest_v2, grpc), api and code "
            + "(HTTP status or gRPC code name). A model that does not exist counts as model=\"\".")
        .labelNames("model", "version", "protocol", "api", "code").register(registry);
    requestDuration = histogram("shardserve_request_duration_seconds",
        "Inference requests from arrival until the answer is handed to the HTTP layer (gRPC: call closed).",
        Buckets.SECONDS, Unit.SECONDS, "model", "protocol");
    queueDuration = histogram("shardserve_queue_duration_seconds",
        "Time a request waited in the node's batch queue before a runtime thread took it.",
        Buckets.SECONDS, Unit.SECONDS, "model");
    computeDuration = histogram("shardserve_compute_duration_seconds",
        "Time of one batch's TensorFlow call (copy in, session run, copy out).",
        Buckets.SECONDS, Unit.SECONDS, "model");
    batchSize = histogram("shardserve_batch_size",
        "Rows in each executed batch, padding excluded (a one-row request run alone records 1).",
        Buckets.BATCH_ROWS, null, "model");
    paddingRows = Counter.builder().name("shardserve_batch_padding_rows_total")
        .help("Rows added to batches to reach an allowed batch size.")
        .labelNames("model").register(registry);
    refused = Counter.builder().name("shardserve_refused_total")
        .help("Requests refused without running, by reason (queue_full, admission, bytes, channel_full, "
            + "deadline, too_large, unavailable).")
        .labelNames("model", "reason").register(registry);
    retries = Counter.builder().name("shardserve_retries_total")
        .help("Attempts sent to another replica after a failure, by reason (unavailable, timeout, overloaded).")
        .labelNames("model", "reason").register(registry);
    inflight = Gauge.builder().name("shardserve_inflight_requests")
        .help("Requests admitted by this process and not yet answered.")
        .labelNames("model").register(registry);
    admissionLimit = Gauge.builder().name("shardserve_admission_limit")
        .help("The gateway's adaptive concurrency limit for the model.")
        .labelNames("model").register(registry);
    versionState = Gauge.builder().name("shardserve_model_version_state")
        .help("1 for a model version's current state on this node (TF Serving's START, LOADING, AVAILABLE, "
            + "UNLOADING, END), 0 for its other states.")
        .labelNames("model", "version", "state").register(registry);
    loadDuration = histogram("shardserve_model_load_duration_seconds",
        "Time to load a model version: read, create the session, warm up.",
        Buckets.LOAD_SECONDS, Unit.SECONDS, "model");
    loadFailures = Counter.builder().name("shardserve_model_load_failures_total")
        .help("Failed attempts to load a model version.")
        .labelNames("model").register(registry);
    clusterMembers = Gauge.builder().name("shardserve_cluster_members")
        .help("Cluster members as this process sees them, by status, role and reachability; a member "
            + "with two roles counts under each.")
        .labelNames("status", "role", "reachable").register(registry);
    replicasHosted = Gauge.builder().name("shardserve_replicas_hosted")
        .help("Replicas of the model hosted on this node.")
        .labelNames("model").register(registry);
    replicasDesired = Gauge.builder().name("shardserve_replicas_desired")
        .help("Replicas of the model the desired state asks for, cluster-wide (as this node computes it).")
        .labelNames("model").register(registry);
    memoryLimitBytes.ifPresent(limit -> GaugeWithCallback.builder().name("shardserve_memory_limit_bytes")
        .help("Memory this process may use: the cgroup (container) limit, or the machine's physical memory "
            + "without one. Compare with process_resident_memory_bytes.")
        .unit(Unit.BYTES)
        .callback(cb -> cb.call(limit)).register(registry));
    registerJvm(registry);
  }

  /**
   * The client's JVM and process metrics, registered one by one: {@code JvmMetrics.register}
   * keeps every registry it saw in a static set (a leak with one registry per ActorSystem, as in
   * tests), and {@code JvmMemoryPoolAllocationMetrics} is left out because its GC listeners cannot
   * be removed when a system stops. {@code JvmNativeMemoryMetrics} reports only with
   * {@code -XX:NativeMemoryTracking=summary}; TensorFlow's allocations are outside it either way
   * (see process_resident_memory_bytes).
   */
  private static void registerJvm(PrometheusRegistry registry) {
    JvmThreadsMetrics.builder().register(registry);
    JvmBufferPoolMetrics.builder().register(registry);
    JvmClassLoadingMetrics.builder().register(registry);
    JvmCompilationMetrics.builder().register(registry);
    JvmGarbageCollectorMetrics.builder().register(registry);
    JvmMemoryMetrics.builder().register(registry);
    JvmNativeMemoryMetrics.builder().register(registry);
    JvmRuntimeInfoMetric.builder().register(registry);
    ProcessMetrics.builder().register(registry);
  }

  /** The metrics of a process without an ActorSystem (tests, benchmarks); no cluster listener. */
  public static ShardServeMetrics create(MetricsSettings settings) {
    return new ShardServeMetrics(settings, MemoryLimit.read(Path.of("/sys/fs/cgroup")));
  }

  public static ShardServeMetrics get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  public MetricsSettings settings() {
    return settings;
  }

  /**
   * The handle of a model this process serves or routes to. A name that is not a valid model
   * name, and any name beyond {@code max-models}, gets the {@code model=""} handle. Call it for
   * names that exist (the catalog or the node's handles know them); for a request naming a model
   * that does not exist use {@link #unknownModel()}. One map read when the handle exists.
   */
  public ModelMetrics model(String name) {
    ModelMetrics m = models.get(name);
    return m != null ? m : register(name);
  }

  /** The handle of requests for models that do not exist: label {@code model=""}. */
  public ModelMetrics unknownModel() {
    ModelMetrics u = unknownModel;
    return u != null ? u : createUnknownModel();
  }

  private synchronized ModelMetrics createUnknownModel() {
    if (unknownModel == null) {
      unknownModel = new ModelMetrics(this, "");
    }
    return unknownModel;
  }

  private synchronized ModelMetrics register(String name) {
    ModelMetrics m = models.get(name);
    if (m != null) {
      return m;
    }
    if (!ModelName.isValid(name)) {
      return unknownModel();
    }
    if (models.size() >= settings.maxModels()) {
      if (!warnedMaxModels) {
        warnedMaxModels = true;
        log.warn("more than {} model names (shardserve.metrics.max-models): further models count as model=\"\"",
            settings.maxModels());
      }
      return unknownModel();
    }
    m = new ModelMetrics(this, name);
    models.put(name, m);
    return m;
  }

  /**
   * The replicas this node hosts and the replica count the desired state asks for, per model
   * (from the node's catalog publisher). A model that disappears from a map is set to 0.
   */
  public synchronized void replicas(Map<String, Integer> hosted, Map<String, Integer> desired) {
    setAll(replicasHosted, lastHosted, hosted);
    setAll(replicasDesired, lastDesired, desired);
  }

  private static void setAll(Gauge gauge, Map<String, Integer> last, Map<String, Integer> now) {
    for (String model : last.keySet()) {
      if (!now.containsKey(model)) {
        gauge.labelValues(model).set(0);
      }
    }
    for (Map.Entry<String, Integer> e : now.entrySet()) {
      gauge.labelValues(e.getKey()).set(e.getValue());
    }
    // A model set to 0 above is forgotten: its series stays at 0 until the model comes back.
    last.keySet().retainAll(now.keySet());
    now.forEach(last::put);
  }

  /** Cluster members by (status, role, reachable); combinations seen before and absent now are set to 0. */
  synchronized void clusterMembers(Map<List<String>, Integer> counts) {
    for (List<String> key : lastMembers.keySet()) {
      if (!counts.containsKey(key)) {
        clusterMembers.labelValues(key.toArray(String[]::new)).set(0);
      }
    }
    for (Map.Entry<List<String>, Integer> e : counts.entrySet()) {
      clusterMembers.labelValues(e.getKey().toArray(String[]::new)).set(e.getValue());
      lastMembers.put(e.getKey(), e.getValue());
    }
  }

  private Histogram histogram(String name, String help, double[] bounds, Unit unit, String... labels) {
    Histogram.Builder b = Histogram.builder().name(name).help(help).labelNames(labels).classicUpperBounds(bounds);
    if (unit != null) {
      b.unit(unit);
    }
    if (!settings.nativeHistograms()) {
      b.classicOnly();
    }
    b.withoutExemplars();
    return b.register(registry);
  }
}
