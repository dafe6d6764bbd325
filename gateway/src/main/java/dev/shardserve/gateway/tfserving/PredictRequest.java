package dev.shardserve.gateway.tfserving;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.shardserve.protocol.ModelProtocol;
import dev.shardserve.protocol.Tensor;
import java.io.IOException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A TF Serving predict request: row format ({@code "instances"}: one element per example, an
 * object per example when the signature has several inputs) or columnar ({@code "inputs"}: one
 * tensor, or an object of named tensors). An input named {@code ""} is the signature's only input.
 */
record PredictRequest(String signatureName, boolean rowFormat, Map<String, Tensor> inputs) {

  /** The key for an unnamed input; the node binds it to the signature's only input. */
  static final String SOLE_INPUT = "";

  static PredictRequest parse(JsonParser p) throws IOException {
    RequestJson.requireObject(p);
    String signature = ModelProtocol.DEFAULT_SIGNATURE;
    Map<String, Tensor> inputs = null;
    Boolean row = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      p.nextToken();
      switch (field) {
        case "signature_name" -> signature = RequestJson.signatureName(p);
        case "instances", "inputs" -> {
          if (row != null) {
            throw new BadRequest("Not both 'instances' and 'inputs' may be specified: use one format");
          }
          row = field.equals("instances");
          inputs = row ? parseInstances(p) : parseColumnar(p);
        }
        default -> p.skipChildren();
      }
    }
    if (row == null) {
      throw new BadRequest("Missing 'instances' or 'inputs' key");
    }
    return new PredictRequest(signature, row, inputs);
  }

  private static Map<String, Tensor> parseInstances(JsonParser p) throws IOException {
    if (p.currentToken() != JsonToken.START_ARRAY) {
      throw new BadRequest("'instances' must be a list, got " + RequestJson.describe(p));
    }
    JsonToken first = p.nextToken();
    if (first == JsonToken.END_ARRAY) {
      throw new BadRequest("'instances' is empty: send at least one instance");
    }
    boolean b64First = false;
    if (first == JsonToken.START_OBJECT) {
      JsonToken field = p.nextToken();
      if (field != JsonToken.FIELD_NAME) {
        throw new BadRequest("instance 0 is an empty object: name the signature's inputs");
      }
      if (!p.currentName().equals("b64")) {
        return parseNamedInstances(p);
      }
      b64First = true;
    }
    // One unnamed input: the whole list is one tensor whose first dimension is the batch.
    JsonTensorReader reader = new JsonTensorReader(SOLE_INPUT);
    long n = 0;
    do {
      if (b64First) {
        reader.addB64Rest(p, 1);
        b64First = false;
      } else {
        reader.addValue(p, 1);
      }
      n++;
    } while (p.nextToken() != JsonToken.END_ARRAY);
    return Map.of(SOLE_INPUT, reader.finish(n));
  }

  /** Named inputs, one object per instance; the parser is at instance 0's first field name. */
  private static Map<String, Tensor> parseNamedInstances(JsonParser p) throws IOException {
    Map<String, JsonTensorReader> readers = new LinkedHashMap<>();
    long n = 0;
    boolean atFirstField = true;
    while (true) {
      int fields = 0;
      JsonToken t = atFirstField ? p.currentToken() : p.nextToken();
      atFirstField = false;
      for (; t == JsonToken.FIELD_NAME; t = p.nextToken()) {
        String name = p.currentName();
        p.nextToken();
        JsonTensorReader r = readers.get(name);
        if (r == null) {
          if (n > 0) {
            throw new BadRequest("instance " + n + " has input '" + name + "' that instance 0 does not have");
          }
          r = new JsonTensorReader(name);
          readers.put(name, r);
        }
        r.addValue(p, 1);
        fields++;
      }
      if (fields != readers.size()) {
        throw new BadRequest("instance " + n + " names " + fields + " inputs, instance 0 names " + readers.keySet());
      }
      n++;
      JsonToken next = p.nextToken();
      if (next == JsonToken.END_ARRAY) {
        break;
      }
      if (next != JsonToken.START_OBJECT) {
        throw new BadRequest("instance " + n + " is not an object: every instance must name the same inputs");
      }
    }
    Map<String, Tensor> out = new HashMap<>();
    for (Map.Entry<String, JsonTensorReader> e : readers.entrySet()) {
      out.put(e.getKey(), e.getValue().finish(n));
    }
    return out;
  }

  private static Map<String, Tensor> parseColumnar(JsonParser p) throws IOException {
    if (p.currentToken() == JsonToken.START_OBJECT) {
      JsonToken t = p.nextToken();
      if (t == JsonToken.FIELD_NAME && p.currentName().equals("b64")) {
        JsonTensorReader r = new JsonTensorReader(SOLE_INPUT);
        r.addB64Rest(p, 0);
        return Map.of(SOLE_INPUT, r.finish(-1));
      }
      Map<String, Tensor> out = new HashMap<>();
      for (; t == JsonToken.FIELD_NAME; t = p.nextToken()) {
        String name = p.currentName();
        p.nextToken();
        JsonTensorReader r = new JsonTensorReader(name);
        r.addValue(p, 0);
        out.put(name, r.finish(-1));
      }
      // An empty object is a request for a signature without inputs (TF Serving's counter model
      // has get_counter and reset_counter); a signature that has inputs names the missing one.
      return out;
    }
    JsonTensorReader r = new JsonTensorReader(SOLE_INPUT);
    r.addValue(p, 0);
    return Map.of(SOLE_INPUT, r.finish(-1));
  }

}
