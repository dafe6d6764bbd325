package dev.shardserve.gateway.tfserving;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.shardserve.protocol.Feature;
import dev.shardserve.protocol.ModelProtocol;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A TF Serving classify or regress request: {@code {"signature_name"?, "context"?, "examples":
 * [{feature: value|list}, ...]}}. A feature is a float list if any of its numbers has a
 * fraction or exponent (as {@code 80.0}), an int64 list if all are integers ({@code 80}), and a
 * bytes list for strings and {@code {"b64": ...}} values, as TF Serving reads them.
 */
record ExamplesRequest(String signatureName, List<Map<String, Feature>> examples, Map<String, Feature> context) {

  static ExamplesRequest parse(JsonParser p) throws IOException {
    RequestJson.requireObject(p);
    String signature = ModelProtocol.DEFAULT_SIGNATURE;
    List<Map<String, Feature>> examples = null;
    Map<String, Feature> context = Map.of();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken value = p.nextToken();
      switch (field) {
        case "signature_name" -> signature = RequestJson.signatureName(p);
        case "examples" -> {
          if (value != JsonToken.START_ARRAY) {
            throw new BadRequest("'examples' must be a list of objects, got " + RequestJson.describe(p));
          }
          examples = new ArrayList<>();
          while (p.nextToken() != JsonToken.END_ARRAY) {
            examples.add(parseFeatures(p, "example " + examples.size()));
          }
        }
        case "context" -> context = parseFeatures(p, "context");
        default -> p.skipChildren();
      }
    }
    if (examples == null) {
      throw new BadRequest("Missing 'examples' key");
    }
    if (examples.isEmpty()) {
      throw new BadRequest("'examples' is empty: send at least one example");
    }
    return new ExamplesRequest(signature, examples, context);
  }

  private static Map<String, Feature> parseFeatures(JsonParser p, String where) throws IOException {
    if (p.currentToken() != JsonToken.START_OBJECT) {
      throw new BadRequest(where + " must be an object of features, got " + RequestJson.describe(p));
    }
    Map<String, Feature> out = new HashMap<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      p.nextToken();
      out.put(name, parseFeature(p, where + " feature '" + name + "'"));
    }
    return out;
  }

  private static Feature parseFeature(JsonParser p, String where) throws IOException {
    FeatureValues values = new FeatureValues(where);
    if (p.currentToken() == JsonToken.START_ARRAY) {
      while (p.nextToken() != JsonToken.END_ARRAY) {
        values.add(p);
      }
    } else {
      values.add(p);
    }
    return values.toFeature();
  }

  /** Accumulates one feature's values, refusing mixed kinds. */
  private static final class FeatureValues {
    private final String where;
    private double[] doubles = new double[4];
    private long[] longs = new long[4];
    private List<byte[]> bytes;
    private boolean anyFloat;
    private int n;

    FeatureValues(String where) {
      this.where = where;
    }

    void add(JsonParser p) throws IOException {
      JsonToken t = p.currentToken();
      switch (t) {
        case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
          if (bytes != null) {
            throw mixed();
          }
          if (n == doubles.length) {
            doubles = Arrays.copyOf(doubles, n * 2);
            longs = Arrays.copyOf(longs, n * 2);
          }
          if (t == JsonToken.VALUE_NUMBER_INT) {
            try {
              longs[n] = p.getLongValue();
            } catch (IOException e) {
              throw new BadRequest(where + ": integer " + p.getText() + " is out of range");
            }
            doubles[n] = longs[n];
            n++;
          } else {
            anyFloat = true;
            doubles[n++] = p.getDoubleValue();
          }
        }
        case VALUE_STRING -> addBytes(p.getText().getBytes(StandardCharsets.UTF_8));
        case START_OBJECT -> addBytes(JsonTensorReader.readB64(p, where));
        default -> throw new BadRequest(where + ": unsupported value " + RequestJson.describe(p)
            + " (numbers, strings or {\"b64\": ...})");
      }
    }

    private void addBytes(byte[] b) {
      if (n > 0 && bytes == null) {
        throw mixed();
      }
      if (bytes == null) {
        bytes = new ArrayList<>();
      }
      bytes.add(b);
      n++;
    }

    private BadRequest mixed() {
      return new BadRequest(where + " mixes numbers and strings");
    }

    Feature toFeature() {
      if (bytes != null) {
        return new Feature.BytesList(bytes);
      }
      if (anyFloat) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
          f[i] = (float) doubles[i];
        }
        return new Feature.FloatList(f);
      }
      return new Feature.Int64List(Arrays.copyOf(longs, n));
    }
  }
}
