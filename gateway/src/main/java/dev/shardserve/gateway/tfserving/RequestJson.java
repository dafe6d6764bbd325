package dev.shardserve.gateway.tfserving;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/** What every TF Serving request body shares: a JSON object, with an optional string {@code signature_name}. */
final class RequestJson {
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
