package dev.shardserve.gateway.tfserving;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/** What every TF Serving request body shares: a JSON object, with an optional string {@code signature_name}. */
final class RequestJson {
  /**
   * Parses request bodies: TF Serving's {@code NaN} and {@code Infinity} tokens are numbers, and
   * numbers are parsed by Jackson's fast parser (FastDoubleParser, bundled with jackson-core),
   * which matters when a body is thousands of floats.
   */
  static final JsonFactory FACTORY = JsonFactory.builder()
      .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
      .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
      .build();

  private RequestJson() {}

  /** Moves to the body's START_OBJECT, or refuses a body that is not an object. */
  static void requireObject(JsonParser p) throws IOException {
    if (p.nextToken() != JsonToken.START_OBJECT) {
      throw new BadRequest("JSON Value: " + describe(p) + " Is not object");
    }
  }

  /** The value of {@code signature_name}, whose value token is current. */
  static String signatureName(JsonParser p) throws IOException {
    if (p.currentToken() != JsonToken.VALUE_STRING) {
      throw new BadRequest("'signature_name' key must be a string value.");
    }
    return p.getText();
  }

  static String describe(JsonParser p) {
    JsonToken t = p.currentToken();
    return t == null ? "<end of input>" : t.asString() == null ? t.name() : t.asString();
  }
}
