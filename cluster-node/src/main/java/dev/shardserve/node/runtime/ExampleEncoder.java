package dev.shardserve.node.runtime;

import com.google.protobuf.ByteString;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.Feature;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.BytesList;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.Features;
import org.tensorflow.proto.FloatList;
import org.tensorflow.proto.Int64List;

/**
 * Builds serialized {@code tf.Example} protos from typed feature lists, merging the request's
 * context features into every example (TF Serving's {@code ExampleListWithContext}); a feature
 * named in both is refused, as TF Serving does.
 */
final class ExampleEncoder {
  private ExampleEncoder() {}

  static List<byte[]> serialize(List<Map<String, Feature>> examples, Map<String, Feature> context) {
    List<byte[]> out = new ArrayList<>(examples.size());
    for (Map<String, Feature> example : examples) {
      Features.Builder features = Features.newBuilder();
      for (Map.Entry<String, Feature> e : context.entrySet()) {
        features.putFeature(e.getKey(), toProto(e.getValue()));
      }
      for (Map.Entry<String, Feature> e : example.entrySet()) {
        if (context.containsKey(e.getKey())) {
          throw new InferenceException(ErrorCode.INVALID_INPUT,
              "feature '" + e.getKey() + "' is in both the context and an example");
        }
        features.putFeature(e.getKey(), toProto(e.getValue()));
      }
      out.add(Example.newBuilder().setFeatures(features).build().toByteArray());
    }
    return out;
  }

  private static org.tensorflow.proto.Feature toProto(Feature f) {
    org.tensorflow.proto.Feature.Builder b = org.tensorflow.proto.Feature.newBuilder();
    if (f instanceof Feature.FloatList fl) {
      FloatList.Builder l = FloatList.newBuilder();
      for (float v : fl.values()) {
        l.addValue(v);
      }
      b.setFloatList(l);
    } else if (f instanceof Feature.Int64List il) {
      Int64List.Builder l = Int64List.newBuilder();
      for (long v : il.values()) {
        l.addValue(v);
      }
      b.setInt64List(l);
    } else if (f instanceof Feature.BytesList bl) {
      BytesList.Builder l = BytesList.newBuilder();
      for (byte[] v : bl.values()) {
        l.addValue(ByteString.copyFrom(v));
      }
      b.setBytesList(l);
    }
    return b.build();
  }
}
