package dev.shardserve.serialization;

import akka.actor.typed.ActorRefResolver;
import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import dev.shardserve.desired.DesiredState;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.protocol.Feature;
import dev.shardserve.protocol.ModelCatalog.NodeModels;
import dev.shardserve.protocol.ModelProtocol;
import dev.shardserve.protocol.VersionSelector;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Every class Kryo may meet, with a fixed id and manifest. Ids and manifests are the wire
 * contract: never renumber or reuse one; add new classes with new ids. A reader that registered
 * differently could not read, which is why the list lives here, once, for every process.
 */
public final class KryoRegistrations {

  /** One registered class: stable id, manifest string, and how to build its serializer. */
  public record Registration(
      int id, String manifest, Class<?> type, Function<Supplier<ActorRefResolver>, Serializer<?>> serializer) {}

  public static final List<Registration> ALL = List.of(
      // commands
      new Registration(100, "Infer", ModelProtocol.Infer.class, ProtocolSerializers.InferSerializer::new),
      new Registration(101, "InferExamples", ModelProtocol.InferExamples.class,
          ProtocolSerializers.InferExamplesSerializer::new),
      new Registration(102, "GetStatus", ModelProtocol.GetStatus.class, ProtocolSerializers.GetStatusSerializer::new),
      new Registration(103, "GetMetadata", ModelProtocol.GetMetadata.class,
          ProtocolSerializers.GetMetadataSerializer::new),
      // replies
      new Registration(110, "InferResult", ModelProtocol.InferResult.class,
          r -> new ProtocolSerializers.InferResultSerializer()),
      new Registration(111, "Failure", ModelProtocol.Failure.class, r -> new ProtocolSerializers.FailureSerializer()),
      new Registration(112, "ModelStatus", ModelProtocol.ModelStatus.class,
          r -> new ProtocolSerializers.ModelStatusSerializer()),
      new Registration(113, "ModelMetadata", ModelProtocol.ModelMetadata.class,
          r -> new ProtocolSerializers.ModelMetadataSerializer()),
      // distributed data values
      new Registration(120, "NodeModels", NodeModels.class, r -> new ProtocolSerializers.NodeModelsSerializer()),
      new Registration(121, "DesiredState", DesiredState.class,
          r -> new DesiredStateSerializers.DesiredStateSerializer()),
      new Registration(122, "ModelSpec", ModelSpec.class, r -> new DesiredStateSerializers.ModelSpecSerializer()),
      // nested polymorphic values
      new Registration(130, "Latest", VersionSelector.Latest.class, r -> new ProtocolSerializers.LatestSerializer()),
      new Registration(131, "Specific", VersionSelector.Specific.class,
          r -> new ProtocolSerializers.SpecificSerializer()),
      new Registration(132, "Label", VersionSelector.Label.class, r -> new ProtocolSerializers.LabelSerializer()),
      new Registration(140, "FloatList", Feature.FloatList.class, r -> new ProtocolSerializers.FloatListSerializer()),
      new Registration(141, "Int64List", Feature.Int64List.class, r -> new ProtocolSerializers.Int64ListSerializer()),
      new Registration(142, "BytesList", Feature.BytesList.class, r -> new ProtocolSerializers.BytesListSerializer()));

  private static final Map<String, Class<?>> BY_MANIFEST = new HashMap<>();
  private static final Map<Class<?>, String> MANIFEST_OF = new HashMap<>();

  static {
    for (Registration r : ALL) {
      if (BY_MANIFEST.put(r.manifest(), r.type()) != null || MANIFEST_OF.put(r.type(), r.manifest()) != null) {
        throw new IllegalStateException("duplicate Kryo registration " + r);
      }
    }
  }

  private KryoRegistrations() {}

  /** A Kryo that knows exactly the registered classes, with their ids. */
  static Kryo newKryo(Supplier<ActorRefResolver> resolver) {
    Kryo kryo = new Kryo();
    kryo.setRegistrationRequired(true);
    kryo.setReferences(false);
    for (Registration r : ALL) {
      kryo.register(r.type(), r.serializer().apply(resolver), r.id());
    }
    return kryo;
  }

  public static boolean isRegistered(Class<?> type) {
    return MANIFEST_OF.containsKey(type);
  }

  static String manifestOf(Class<?> type) {
    String m = MANIFEST_OF.get(type);
    if (m == null) {
      throw new IllegalArgumentException("no Kryo registration for " + type.getName());
    }
    return m;
  }

  static Class<?> classOf(String manifest) {
    Class<?> c = BY_MANIFEST.get(manifest);
    if (c == null) {
      throw new IllegalArgumentException("unknown manifest '" + manifest + "'");
    }
    return c;
  }
}
