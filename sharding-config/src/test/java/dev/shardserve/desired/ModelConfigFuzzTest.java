package dev.shardserve.desired;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;

/**
 * Coverage-guided fuzzing (Jazzer) of the model config file readers: shardserve's HOCON/JSON and
 * TF Serving's protobuf text. A bad file is refused with an IllegalArgumentException naming the
 * field; any other exception or error is a finding.
 */
class ModelConfigFuzzTest {

  @FuzzTest(maxDuration = "10s")
  void hocon(byte[] text) {
    try {
      ModelConfigFile.parseHocon(new String(text, StandardCharsets.UTF_8), false);
    } catch (IllegalArgumentException e) {
      // refused: fine
    }
  }

  @FuzzTest(maxDuration = "10s")
  void json(byte[] text) {
    try {
      ModelConfigFile.parseHocon(new String(text, StandardCharsets.UTF_8), true);
    } catch (IllegalArgumentException e) {
      // refused: fine
    }
  }

  @FuzzTest(maxDuration = "10s")
  void tfServingText(byte[] text) {
    try {
      ModelConfigFile.parseTfServing(new String(text, StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      // refused: fine
    }
  }
}
