package dev.shardserve.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class ModelMetricsTest {
  private static final long MS = 1_000_000;

  private final ShardServeMetrics metrics = ShardServeMetrics.create(MetricsSettings.DEFAULT);

  private Samples scrape() {
    return new Samples(metrics.registry());
  }

  @Test
  void model_firstUse_startsEveryRefusalAndRetryReasonAtZero() {
    metrics.model("mlp");
    Samples s = scrape();
    for (RefusalReason r : RefusalReason.values()) {
      assertEquals(0.0, s.value("shardserve_refused", "model", "mlp", "reason", r.label()), r.label());
    }
    for (RetryReason r : RetryReason.values()) {
      assertEquals(0.0, s.value("shardserve_retries", "model", "mlp", "reason", r.label()), r.label());
    }
    assertEquals(0, s.histogram("shardserve_batch_size", "model", "mlp").getCount());
    assertEquals(0, s.histogram("shardserve_request_duration_seconds", "model", "mlp", "protocol", "grpc").getCount());
  }

  @Test
  void model_sameName_returnsTheSameHandle() {
    assertSame(metrics.model("mlp"), metrics.model("mlp"));
    assertNotEquals(metrics.model("mlp"), metrics.model("other"));
  }

  @Test
  void requestAnswered_countsByVersionProtocolApiAndCode() {
    ModelMetrics m = metrics.model("mlp");
    m.requestAnswered(Protocol.REST_V1, Api.PREDICT, 200, 3, MS);
    m.requestAnswered(Protocol.REST_V1, Api.PREDICT, 200, 3, MS);
    m.requestAnswered(Protocol.REST_V1, Api.PREDICT, 400, ModelMetrics.NO_VERSION, MS);
    m.requestAnswered(Protocol.GRPC, Api.PREDICT, 14, 3, MS);
    Samples s = scrape();
    assertEquals(2.0, s.value("shardserve_requests", "model", "mlp", "version", "3", "protocol", "rest_v1",
        "api", "predict", "code", "200"));
    assertEquals(1.0, s.value("shardserve_requests", "model", "mlp", "version", "", "code", "400"));
    assertEquals(1.0, s.value("shardserve_requests", "model", "mlp", "protocol", "grpc", "code", "UNAVAILABLE"));
  }

  @Test
  void requestAnswered_codeOutsideItsRange_isOther() {
    ModelMetrics m = metrics.model("mlp");
    m.requestAnswered(Protocol.REST_V2, Api.INFER, 999, 1, MS);
    m.requestAnswered(Protocol.REST_V2, Api.INFER, 42, 1, MS);
    m.requestAnswered(Protocol.GRPC, Api.INFER, 17, 1, MS);
    Samples s = scrape();
    assertEquals(2.0, s.value("shardserve_requests", "model", "mlp", "protocol", "rest_v2", "code", "other"));
    assertEquals(1.0, s.value("shardserve_requests", "model", "mlp", "protocol", "grpc", "code", "other"));
  }

  @Test
  void requestAnswered_timesInferenceButNotMetadataStatusOrReady() {
    ModelMetrics m = metrics.model("mlp");
    m.requestAnswered(Protocol.REST_V1, Api.PREDICT, 200, 1, 3 * MS);
    m.requestAnswered(Protocol.REST_V1, Api.METADATA, 200, 1, 1000 * MS);
    m.requestAnswered(Protocol.REST_V1, Api.STATUS, 200, 1, 1000 * MS);
    m.requestAnswered(Protocol.REST_V2, Api.READY, 200, 1, 1000 * MS);
    HistogramDataPointSnapshot h = scrape().histogram("shardserve_request_duration_seconds", "model", "mlp",
        "protocol", "rest_v1");
    assertEquals(1, h.getCount());
    assertEquals(0.003, h.getSum(), 1e-12);
    assertEquals(0, scrape().histogram("shardserve_request_duration_seconds", "model", "mlp", "protocol", "rest_v2")
        .getCount());
  }

  @Test
  void unknownModel_countsUnderEmptyName_andCreatesNoSeriesPerName() {
    for (int i = 0; i < 50; i++) {
      metrics.unknownModel().requestAnswered(Protocol.REST_V1, Api.PREDICT, 404, ModelMetrics.NO_VERSION, MS);
    }
    Samples s = scrape();
    assertEquals(50.0, s.value("shardserve_requests", "model", "", "code", "404"));
    assertEquals(1, s.points("shardserve_requests").size());
  }

  @Test
  void freshRegistry_hasNoSeriesForUnknownModelsUntilOneIsRecorded() {
    assertTrue(scrape().points("shardserve_refused", "model", "").isEmpty());
    metrics.unknownModel();
    assertEquals(0.0, scrape().value("shardserve_refused", "model", "", "reason", "admission"));
  }

  @Test
  void model_invalidName_getsTheUnknownHandle() {
    assertSame(metrics.unknownModel(), metrics.model("../etc"));
    assertSame(metrics.unknownModel(), metrics.model(""));
    assertSame(metrics.unknownModel(), metrics.model("a#1"));
  }

  @Test
  void model_beyondMaxModels_getsTheUnknownHandle() {
    ShardServeMetrics small = ShardServeMetrics.create(new MetricsSettings("0.0.0.0", -1, false, 2, 5));
    ModelMetrics a = small.model("a");
    ModelMetrics b = small.model("b");
    assertEquals("a", a.model());
    assertEquals("b", b.model());
    assertSame(small.unknownModel(), small.model("c"));
    assertSame(a, small.model("a"));
  }

  @Test
  void batchRan_recordsRowsPaddingAndComputeTime() {
    ModelMetrics m = metrics.model("mlp");
    m.batchRan(1, 0, 2 * MS);
    m.batchRan(29, 3, 5 * MS);
    Samples s = scrape();
    HistogramDataPointSnapshot size = s.histogram("shardserve_batch_size", "model", "mlp");
    assertEquals(2, size.getCount());
    assertEquals(30.0, size.getSum());
    assertEquals(1, size.getClassicBuckets().getCount(0), "a one-row batch alone is in the le=1 bucket");
    assertEquals(3.0, s.value("shardserve_batch_padding_rows", "model", "mlp"));
    HistogramDataPointSnapshot compute = s.histogram("shardserve_compute_duration_seconds", "model", "mlp");
    assertEquals(2, compute.getCount());
    assertEquals(0.007, compute.getSum(), 1e-12);
  }

  @Test
  void queueWaited_observesSeconds() {
    metrics.model("mlp").queueWaited(250_000);
    HistogramDataPointSnapshot q = scrape().histogram("shardserve_queue_duration_seconds", "model", "mlp");
    assertEquals(1, q.getCount());
    assertEquals(0.00025, q.getSum(), 1e-12);
  }

  @Test
  void refusedAndRetried_countTheirReasonOnly() {
    ModelMetrics m = metrics.model("mlp");
    m.refused(RefusalReason.QUEUE_FULL);
    m.refused(RefusalReason.QUEUE_FULL);
    m.retried(RetryReason.TIMEOUT);
    Samples s = scrape();
    assertEquals(2.0, s.value("shardserve_refused", "model", "mlp", "reason", "queue_full"));
    assertEquals(0.0, s.value("shardserve_refused", "model", "mlp", "reason", "admission"));
    assertEquals(1.0, s.value("shardserve_retries", "model", "mlp", "reason", "timeout"));
    assertEquals(0.0, s.value("shardserve_retries", "model", "mlp", "reason", "overloaded"));
  }

  @Test
  void inflight_followsIncrementsAndDecrements() {
    ModelMetrics m = metrics.model("mlp");
    m.inflightIncrement();
    m.inflightIncrement();
    m.inflightDecrement();
    assertEquals(1.0, scrape().value("shardserve_inflight_requests", "model", "mlp"));
  }

  @Test
  void admissionLimit_hasNoSeriesUntilSet() {
    ModelMetrics m = metrics.model("mlp");
    assertTrue(scrape().points("shardserve_admission_limit", "model", "mlp").isEmpty());
    m.admissionLimit(20);
    m.admissionLimit(17);
    assertEquals(17.0, scrape().value("shardserve_admission_limit", "model", "mlp"));
  }

  @Test
  void versionState_setsTheCurrentStateToOneAndTheOthersToZero() {
    ModelMetrics m = metrics.model("mlp");
    m.versionState(2, VersionState.LOADING);
    m.versionState(2, VersionState.AVAILABLE);
    Samples s = scrape();
    for (VersionState state : VersionState.values()) {
      assertEquals(state == VersionState.AVAILABLE ? 1.0 : 0.0,
          s.value("shardserve_model_version_state", "model", "mlp", "version", "2", "state", state.label()),
          state.label());
    }
  }

  @Test
  void versionState_keepsOnlyTheMostRecentEndedVersions() {
    ShardServeMetrics keepTwo = ShardServeMetrics.create(new MetricsSettings("0.0.0.0", -1, false, 10, 2));
    ModelMetrics m = keepTwo.model("mlp");
    for (long v = 1; v <= 4; v++) {
      m.versionState(v, VersionState.AVAILABLE);
      m.versionState(v, VersionState.END);
    }
    Samples s = new Samples(keepTwo.registry());
    assertTrue(s.points("shardserve_model_version_state", "version", "1").isEmpty());
    assertTrue(s.points("shardserve_model_version_state", "version", "2").isEmpty());
    assertEquals(1.0, s.value("shardserve_model_version_state", "version", "3", "state", "END"));
    assertEquals(1.0, s.value("shardserve_model_version_state", "version", "4", "state", "END"));
  }

  @Test
  void loadedAndLoadFailed_recordPerModel() {
    ModelMetrics m = metrics.model("mlp");
    m.loaded(1_500 * MS);
    m.loadFailed();
    Samples s = scrape();
    HistogramDataPointSnapshot load = s.histogram("shardserve_model_load_duration_seconds", "model", "mlp");
    assertEquals(1, load.getCount());
    assertEquals(1.5, load.getSum(), 1e-9);
    assertEquals(1.0, s.value("shardserve_model_load_failures", "model", "mlp"));
  }

  @Test
  void replicas_setHostedAndDesired_andSetAVanishedModelToZero() {
    metrics.replicas(Map.of("a", 2, "b", 1), Map.of("a", 2, "b", 2));
    metrics.replicas(Map.of("a", 1), Map.of("a", 2));
    Samples s = scrape();
    assertEquals(1.0, s.value("shardserve_replicas_hosted", "model", "a"));
    assertEquals(0.0, s.value("shardserve_replicas_hosted", "model", "b"));
    assertEquals(0.0, s.value("shardserve_replicas_desired", "model", "b"));
    assertEquals(2.0, s.value("shardserve_replicas_desired", "model", "a"));
  }

  @Test
  void inferenceHistograms_haveBucketsFrom100MicrosecondsTo60Seconds() {
    metrics.model("mlp").queueWaited(1);
    HistogramDataPointSnapshot q = scrape().histogram("shardserve_queue_duration_seconds", "model", "mlp");
    List<Double> bounds = new ArrayList<>();
    q.getClassicBuckets().forEach(b -> bounds.add(b.getUpperBound()));
    assertEquals(0.0001, bounds.get(0));
    assertEquals(60.0, bounds.get(bounds.size() - 2));
    assertEquals(Double.POSITIVE_INFINITY, bounds.get(bounds.size() - 1));
    assertArrayEquals(Buckets.seconds(), bounds.subList(0, bounds.size() - 1).stream().mapToDouble(d -> d).toArray());
    assertFalse(q.hasNativeHistogramData(), "classic only by default");
  }

  @Test
  void nativeHistograms_whenOn_areNativeAndClassic() {
    ShardServeMetrics both = ShardServeMetrics.create(new MetricsSettings("0.0.0.0", -1, true, 10, 5));
    both.model("mlp").queueWaited(3 * MS);
    HistogramDataPointSnapshot q = new Samples(both.registry()).histogram("shardserve_queue_duration_seconds",
        "model", "mlp");
    assertTrue(q.hasNativeHistogramData());
    assertTrue(q.hasClassicHistogramData());
  }

  @Test
  void registry_holdsJvmAndProcessMetrics() {
    Samples s = scrape();
    assertTrue(s.hasFamily("jvm_memory_used_bytes"));
    assertTrue(s.hasFamily("process_resident_memory_bytes") || !System.getProperty("os.name").contains("Linux"));
    assertTrue(s.hasFamily("shardserve_memory_limit_bytes"));
  }

  @Test
  void familyNames_includeEveryRequiredFamilyWithItsSuffixes() {
    var names = FamilyNames.of(metrics.registry().scrape());
    for (String n : List.of("shardserve_requests_total", "shardserve_request_duration_seconds_bucket",
        "shardserve_request_duration_seconds_count", "shardserve_request_duration_seconds_sum",
        "shardserve_queue_duration_seconds_bucket", "shardserve_compute_duration_seconds_bucket",
        "shardserve_batch_size_bucket", "shardserve_batch_padding_rows_total", "shardserve_refused_total",
        "shardserve_retries_total", "shardserve_inflight_requests", "shardserve_admission_limit",
        "shardserve_model_version_state", "shardserve_model_load_duration_seconds_bucket",
        "shardserve_model_load_failures_total", "shardserve_cluster_members", "shardserve_replicas_hosted",
        "shardserve_replicas_desired", "jvm_memory_used_bytes", "process_resident_memory_bytes")) {
      assertTrue(names.contains(n), n + " in " + names);
    }
    assertFalse(names.contains("shardserve_requests_total_total"));
  }

  @Test
  void requestSeries_manyCombinations_eachKeepsItsOwnCount() {
    ModelMetrics m = metrics.model("mlp");
    int n = 0;
    for (long v = 1; v <= 3; v++) {
      for (Api api : Api.values()) {
        for (int code : new int[] {200, 400, 404, 429, 500, 503, 504}) {
          for (int i = 0; i <= n % 3; i++) {
            m.requestAnswered(Protocol.REST_V1, api, code, v, MS);
          }
          n++;
        }
      }
    }
    Samples s = scrape();
    assertEquals(n, s.points("shardserve_requests", "model", "mlp").size());
    n = 0;
    for (long v = 1; v <= 3; v++) {
      for (Api api : Api.values()) {
        for (int code : new int[] {200, 400, 404, 429, 500, 503, 504}) {
          assertEquals(n % 3 + 1, s.value("shardserve_requests", "model", "mlp", "version", Long.toString(v),
              "api", api.label(), "code", Integer.toString(code)));
          n++;
        }
      }
    }
  }

  @Test
  void counters_neverGoBackwards_whileThreadsRecordAndScrapesRun() throws Exception {
    ModelMetrics m = metrics.model("mlp");
    AtomicBoolean stop = new AtomicBoolean();
    CountDownLatch started = new CountDownLatch(2);
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 2; t++) {
      int code = 200 + t;
      Thread thread = new Thread(() -> {
        started.countDown();
        while (!stop.get()) {
          m.requestAnswered(Protocol.REST_V1, Api.PREDICT, code, 1, MS);
          m.queueWaited(MS);
        }
      });
      thread.start();
      threads.add(thread);
    }
    started.await();
    double lastRequests = 0;
    long lastQueued = 0;
    for (int i = 0; i < 100; i++) {
      Samples s = new Samples(metrics.registry(), name -> name.startsWith("shardserve_"));
      double requests = s.points("shardserve_requests", "model", "mlp").stream()
          .mapToDouble(p -> ((io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot) p)
              .getValue()).sum();
      HistogramDataPointSnapshot q = s.histogram("shardserve_queue_duration_seconds", "model", "mlp");
      assertTrue(requests >= lastRequests, requests + " after " + lastRequests);
      assertTrue(q.getCount() >= lastQueued, q.getCount() + " after " + lastQueued);
      long inBuckets = 0;
      for (int b = 0; b < q.getClassicBuckets().size(); b++) {
        inBuckets += q.getClassicBuckets().getCount(b);
      }
      assertEquals(q.getCount(), inBuckets, "a scrape's buckets add up to its count");
      lastRequests = requests;
      lastQueued = q.getCount();
    }
    stop.set(true);
    for (Thread t : threads) {
      t.join();
    }
    assertTrue(lastRequests > 0);
  }

  @Test
  void settings_badValues_nameTheKey() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new MetricsSettings("0.0.0.0", 70000, false, 10, 5));
    assertTrue(e.getMessage().contains("shardserve.metrics.port") && e.getMessage().contains("70000"));
    e = assertThrows(IllegalArgumentException.class, () -> new MetricsSettings("0.0.0.0", 1, false, 0, 5));
    assertTrue(e.getMessage().contains("max-models"));
  }
}
