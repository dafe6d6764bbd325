package dev.shardserve.node.lifecycle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shardserve.node.examples.HalfPlusTwoModel;
import dev.shardserve.node.runtime.LoadedModel;
import dev.shardserve.node.runtime.SessionSettings;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WarmupTest {
  @TempDir Path dir;

  @Test
  void warmupFile_isParsedAsColumnarInputs() throws Exception {
    Path f = dir.resolve("warmup.json");
    Files.writeString(f, """
        {"requests": [
          {"signature_name": "serving_default", "repeat": 2, "inputs": {"x": [[1.0], [2.5]]}},
          {"inputs": [1, 2, 3]}
        ]}""");
    List<Warmup.Request> r = Warmup.readFile(f);
    assertEquals(2, r.size());
    Tensor x = r.get(0).inputs().get("x");
    assertEquals(DType.FLOAT64, x.dtype());
    assertArrayEquals(new long[] {2, 1}, x.shape());
    assertEquals(2, r.get(0).repeat());
    assertEquals(DType.INT64, r.get(1).inputs().get(LoadedModel.SOLE_INPUT).dtype());
    assertEquals("serving_default", r.get(1).signature());
  }

  @Test
  void badWarmupFile_namesTheRequest() throws Exception {
    Path f = dir.resolve("warmup.json");
    Files.writeString(f, "{\"requests\": [{\"inputs\": {\"x\": [[1], [2, 3]]}}]}");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Warmup.readFile(f));
    assertTrue(e.getMessage().contains("request 0") && e.getMessage().contains("'x'"), e.getMessage());
  }

  @Test
  void warmup_runsSyntheticAndFileRequests_andAFailingFileRequestFailsIt() throws Exception {
    Path v = dir.resolve("m/1");
    HalfPlusTwoModel.write(v);
    Files.createDirectories(v.resolve("assets.extra"));
    Files.writeString(v.resolve(Warmup.FILE), "{\"requests\": [{\"inputs\": {\"x\": [1.0, 2.0]}}]}");
    try (LoadedModel m = LoadedModel.load(v, 1, SessionSettings.callingThread())) {
      LoadProgress progress = new LoadProgress(dev.shardserve.logging.LifecycleLog.create(), "m", 1, () -> 0);
      Warmup.run(m, v, 2, false, progress);
      assertEquals("warming_up", progress.phase());
      assertTrue(progress.total() >= 3, "2 synthetic runs per callable signature and the file's request: "
          + progress.total());
      assertEquals(progress.total(), progress.done(), "every planned run ran and was counted");
    }
    Files.writeString(v.resolve(Warmup.FILE), "{\"requests\": [{\"inputs\": {\"nope\": [1.0]}}]}");
    try (LoadedModel m = LoadedModel.load(v, 1, SessionSettings.callingThread())) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Warmup.run(m, v, 0, false));
      assertTrue(e.getMessage().contains("request 0"), e.getMessage());
    }
  }
}
