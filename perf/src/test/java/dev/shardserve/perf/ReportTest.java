package dev.shardserve.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {
  @TempDir Path dir;

  /** A closed-loop window of {@code seconds} with {@code answers} 200s at {@code ms} each and {@code cpu} seconds of server CPU. */
  static Results.Point point(String system, Workload w, int clients, long answers, double ms, double cpu) {
    Tally t = new Tally();
    for (long i = 0; i < answers; i++) {
      t.record(200, (long) (ms * 1000), (long) (ms * 1000));
    }
    return new Results.Point(system, w, clients, 0, t.toResult(system, 1), cpu, 500 * 1024);
  }

  static Results results() {
    Plan plan = Plan.named("quick");
    Results r = new Results(plan);
    Workload hpt = Workload.rows(Suite.HALF_PLUS_TWO, 1, 0, 7);
    Workload mlp = Workload.rows(Suite.MLP, 1, 784, 7);
    Workload wide = Workload.rows(Suite.MLP, 32, 784, 7);
    r.points.add(point(Suite.STANDALONE, mlp, 1, 1000, 0.9, 0.5));
    r.points.add(point(Suite.STANDALONE, mlp, 64, 7000, 9, 2.0)); // 285.7 µs/answer
    r.points.add(point(Suite.NAIVE, mlp, 64, 2000, 30, 2.0));
    r.points.add(point(Suite.CONSTANT, mlp, 64, 10000, 6, 1.0)); // 100 µs/answer
    r.points.add(point(Suite.STANDALONE, hpt, 64, 9000, 7, 2.0));
    r.points.add(point(Suite.CONSTANT, hpt, 64, 12000, 5, 2.0));
    r.points.add(point(Suite.CLUSTER, mlp, 64, 5600, 11, 2.0));
    r.points.add(point(Suite.STANDALONE, wide, 16, 500, 30, 2.0)); // 16,000 rows/s, 125 µs/row
    r.points.add(point(Suite.NAIVE, wide, 16, 250, 60, 2.0)); // 8,000 rows/s
    r.points.add(point(Suite.NAIVE, mlp, 1, 900, 1.0, 0.5));
    Results.Point crowd = point(Suite.STANDALONE, mlp, 1024, 6650, 20, 2.0);
    r.points.add(crowd);
    r.crowds.put(Suite.STANDALONE, crowd);
    r.ceilings.put(Suite.MLP, new Results.Ceiling(Suite.MLP, 80, 120, List.of(new Results.CeilingPoint(1, 20_000, 95),
        new Results.CeilingPoint(64, 40_000, 50)), Map.of(32, 25.0), Map.of(32, 40.0)));
    r.coldStarts.put(Suite.STANDALONE, 7.5);
    return r;
  }

  static Report.Ratio ratio(List<Report.Ratio> ratios, String name) {
    return ratios.stream().filter(q -> q.name().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void v2Ratios_compareBinaryWithTheCeilingAtBatch32_andV2JsonWithV1() {
    Results r = results();
    r.ceilings.put(Suite.MLP, new Results.Ceiling(Suite.MLP, 80, 120, List.of(new Results.CeilingPoint(32, 30_000, 40),
        new Results.CeilingPoint(64, 40_000, 35)), Map.of(), Map.of()));
    Workload json = Workload.v2Json(Suite.MLP, "x", "probabilities", 1, 784, 7);
    Workload binary = Workload.v2Binary(Suite.MLP, "x", 1, 784, 7);
    Workload wideBinary = Workload.v2Binary(Suite.MLP, "x", 32, 784, 7);
    r.points.add(point(Suite.STANDALONE, json, 64, 7000, 9, 2.1)); // 300 µs vs v1's 285.7: 1.05x
    r.points.add(point(Suite.STANDALONE, json, 1, 1000, 1.2, 0.5));
    r.points.add(point(Suite.STANDALONE, binary, 1, 1000, 0.7, 0.5));
    r.points.add(point(Suite.STANDALONE, wideBinary, 16, 1000, 20, 1.6)); // 1600 µs / 32 = 50 µs per row
    List<Report.Ratio> ratios = new Report(r).ratios();
    assertEquals(50.0 / 40, ratio(ratios, "v2 binary cost").value(), 1e-9);
    assertTrue(ratio(ratios, "v2 binary cost").met());
    assertEquals(2.1 / 2.0, ratio(ratios, "v2 JSON cost").value(), 1e-9);
    assertTrue(ratio(ratios, "v2 JSON cost").met());
    assertEquals(1.2, ratio(ratios, "v2 latency").value(), 0.05);
    // the v1 ratios still read v1 runs only
    assertEquals(3.5, ratio(ratios, "batching gain").value(), 1e-9);
    String md = new Report(r).markdown(Map.of(), null);
    assertTrue(md.contains("## Closed loop: mlp, v2 binary (32 rows per request)"), md);
  }

  @Test
  void grpcRatios_readTheGrpcRuns_whoseApiIsNotV1() {
    Results r = results();
    r.ceilings.put(Suite.MLP, new Results.Ceiling(Suite.MLP, 80, 120, List.of(new Results.CeilingPoint(32, 30_000, 40)),
        Map.of(), Map.of()));
    int c = r.plan.ratioClients();
    Workload one = new Workload(Suite.MLP, "gRPC MODEL_INFER_RAW", 1, new byte[0], "");
    Workload wide = new Workload(Suite.MLP, "gRPC MODEL_INFER_RAW", 32, new byte[0], "");
    r.points.add(point(Suite.GRPC_INFER, one, c, 8000, 5, 1.6)); // 200 µs per answer
    r.points.add(point(Suite.GRPC_INFER, wide, 16, 1000, 20, 1.28)); // 1280 µs / 32 = 40 µs per row
    List<Report.Ratio> grpc = Report.grpcRatios(r, Suite.MLP).stream()
        .filter(q -> q.scenario().startsWith(Suite.GRPC_INFER)).toList();
    assertEquals(2, grpc.size(), grpc.toString());
    assertEquals(1.0, ratio(grpc, "gRPC CPU per row, 32 rows").value(), 1e-9);
    assertEquals(200.0 / (2.0 / 7000 * 1e6), ratio(grpc, "gRPC CPU per request, 1 row").value(), 1e-9);
  }

  @Test
  void v2Bodies_carryTheSameNumbersAsV1_inTritonsForm() throws Exception {
    Workload v1 = Workload.rows(Suite.MLP, 2, 3, 7);
    Workload json = Workload.v2Json(Suite.MLP, "x", "y", 2, 3, 7);
    Workload binary = Workload.v2Binary(Suite.MLP, "x", 2, 3, 7);
    var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
    var rows = mapper.readTree(v1.body()).get("instances");
    var flat = mapper.readTree(json.body()).get("inputs").get(0).get("data");
    String header = binary.headers();
    int jsonLength = Integer.parseInt(header.substring(header.indexOf(':') + 1).trim());
    var head = mapper.readTree(java.util.Arrays.copyOf(binary.body(), jsonLength));
    assertEquals(24, head.get("inputs").get(0).get("parameters").get("binary_data_size").asInt());
    var data = java.nio.ByteBuffer.wrap(binary.body(), jsonLength, 24).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 6; i++) {
      double v = rows.get(i / 3).get(i % 3).asDouble();
      assertEquals(v, flat.get(i).asDouble());
      assertEquals((float) v, data.getFloat());
    }
    assertEquals("POST /v2/models/mlp/infer", binary.request().method() + " " + binary.request().path());
    assertTrue(!binary.headers().contains("Content-Type"));
  }

  @Test
  void ratios_comeFromTheRunsTheyName() {
    List<Report.Ratio> ratios = new Report(results()).ratios();
    assertEquals(3.5, ratio(ratios, "batching gain").value(), 1e-9);
    assertTrue(ratio(ratios, "batching gain").met());
    // 285.7 (standalone) - 100 (bare route) - 50 (TensorFlow per row at the best batch)
    assertEquals(2.0 / 7000 * 1e6 - 100 - 50, ratio(ratios, "overhead").value(), 1e-6);
    assertEquals(Boolean.FALSE, ratio(ratios, "overhead").met());
    assertEquals(0.9 - 0.08, ratio(ratios, "added latency").value(), 1e-3);
    assertEquals(16_000.0 / 40_000, ratio(ratios, "efficiency").value(), 1e-9);
    assertEquals(0.75, ratio(ratios, "HTTP ceiling").value(), 1e-9);
    assertEquals(0.8, ratio(ratios, "the hop").value(), 1e-9);
    assertTrue(ratio(ratios, "the hop").detail().contains("357 µs (3 JVMs)"), ratio(ratios, "the hop").detail());
    assertEquals(1000.0 / 900, ratio(ratios, "1 client").value(), 1e-9);
    assertEquals(Boolean.TRUE, ratio(ratios, "1 client").met(), "more answers/s and a p50 of 0.9 ms against 1.0");
    assertEquals(2.0, ratio(ratios, "32 rows per request").value(), 1e-9);
    assertEquals(6650.0 / 7000, ratio(ratios, "goodput under a crowd").value(), 1e-9);
    assertEquals(25.0, ratio(ratios, "decoder").value(), 1e-9);
  }

  @Test
  void jsonShare_isTheDecodersPartOfTheCpuPerRow() {
    Results r = results();
    Results.Point wide = r.closed(Suite.STANDALONE, Suite.MLP, 32, 16).orElseThrow();
    String s = Report.jsonShare(wide, r.ceilings.get(Suite.MLP));
    // 125 µs of CPU per row, 25 of them decoding: the same CPU would serve 16,000 × 125/100 = 20,000 rows/s,
    // 4,000 of the 24,000 rows/s gap
    assertTrue(s.contains("25.0 µs per row") && s.contains("20% of the server's 125.0 µs")
        && s.contains("about 20000 rows/s, 17% of the gap"), s);
  }

  @Test
  void aMissingRun_isShownAsNotMeasured_notHidden() {
    Results r = new Results(Plan.named("smoke"));
    List<Report.Ratio> ratios = new Report(r).ratios();
    assertEquals(20, ratios.size()); // smoke: one open-loop factor; gRPC and v2 add their own
    assertTrue(ratios.stream().allMatch(q -> Double.isNaN(q.value()) && q.detail().startsWith("not measured")));
  }

  @Test
  void theReport_hasTablesPlotsAndEveryRatio() throws Exception {
    Path report = Report.write(results(), dir);
    String md = Files.readString(report);
    for (String s : List.of("## Ratios", "| batching gain |", "| overhead |", "| efficiency |", "| HTTP ceiling |",
        "| the hop |", "## Closed loop: mlp", "## In-process ceiling", "| mlp | 64 | 40000 | 50.00 |",
        "## Cold start", "| shardserve standalone | 7.50 |", "**Machine**", "TensorFlow Java 1.1.0")) {
      assertTrue(md.contains(s), "report has " + s + ":\n" + md);
    }
    if (md.contains("Plots were not drawn")) {
      return; // a JDK without fonts: the report says so instead
    }
    for (String png : List.of("throughput-mlp.png", "latency-mlp.png", "throughput-half_plus_two.png")) {
      assertTrue(md.contains("(" + png + ")"), png);
      byte[] b = Files.readAllBytes(dir.resolve(png));
      assertTrue(b.length > 1000 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G', png + " is a PNG");
    }
  }

  @Test
  void suitesHaveTheirBudgets_andABadNameIsNamed() {
    assertEquals(List.of(1, 2, 4, 8, 16, 32, 64, 128), Plan.named("full").sweep());
    assertEquals(64, Plan.named("full").ratioClients());
    assertEquals(8, Plan.named("smoke").ratioClients());
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> Plan.named("huge"));
    assertTrue(e.getMessage().contains("'huge'"), e.getMessage());
  }
}
