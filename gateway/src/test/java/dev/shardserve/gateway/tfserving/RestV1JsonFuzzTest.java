package dev.shardserve.gateway.tfserving;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.core.JsonParser;
import java.io.IOException;

/**
 * Coverage-guided fuzzing of the TF Serving REST v1 body decoders (Jazzer): the predict decoder
 * the gateway runs ({@link PredictJson#decode}) and the classify/regress examples parser. Any
 * input may be refused, but only as a bad request ({@link IllegalArgumentException} /
 * {@link BadRequest}, naming the value) or a JSON syntax error; any other exception or error is a
 * finding. Regression mode (the normal build) replays the committed inputs under
 * {@code src/test/resources/.../RestV1JsonFuzzTestInputs}; {@code perf/fuzz.sh} fuzzes.
 */
class RestV1JsonFuzzTest {

  @FuzzTest(maxDuration = "10s")
  void predictBody(byte[] body) {
    try {
      PredictJson.decode(body);
    } catch (IllegalArgumentException | IOException e) {
      // refused as a bad request: fine
    }
  }

  @FuzzTest(maxDuration = "10s")
  void examplesBody(byte[] body) {
    try (JsonParser p = RequestJson.FACTORY.createParser(body)) {
      ExamplesRequest.parse(p);
    } catch (BadRequest | IOException e) {
      // refused as a bad request: fine
    }
  }
}
