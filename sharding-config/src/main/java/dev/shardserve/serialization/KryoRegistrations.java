package dev.shardserve.serialization;

import akka.actor.typed.ActorRefResolver;
import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.util.DefaultClassResolver;
import dev.shardserve.desired.DesiredState;
import dev.shardserve.desired.Device;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.protocol.Feature;
import dev.shardserve.protocol.ModelCatalog.NodeModels;
import dev.shardserve.protocol.ModelProtocol;
import dev.shardserve.protocol.VersionSelector;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Every class Kryo may meet, with a fixed id and manifest. Ids and manifests are the wire
 * contract: never renumber or reuse one; add new classes with new ids. A reader that registered
 * differently could not read, which is why the list lives here, once, for every process.
 *
 * <p><b>Format versions.</b> Akka hands the serializer the manifest with every message, so the
 * manifest names the format: the bare name ({@code Infer}) is format 1, the layout release
 * {@code 1970aee} wrote without any version number; {@code Infer@2} would be format 2. A reader
 * refuses a format newer than it knows (a log line naming type and format, and an exception:
 * never a guessed value). To change a layout: raise the type's number in {@link #NEWEST_FORMATS},
 * teach the type's serializer to read both layouts (the manifest's format reaches it as
 * {@link #formatBeingRead}), add golden samples of the new format under
 * {@code src/test/resources/golden/} (old samples are never rewritten), and keep writing the old
 * format for one release ({@link #writtenFormat}): a rolling upgrade mixes two releases, and each
 * must read what the other writes.
 *
 * <p>Formats now: 1 of every type, and format 2 of {@code ModelSpec} and {@code DesiredState}
 * (issue 18: a model's {@code device}). This release reads both and writes format 1 whenever the
 * value fits in it (every device {@code any}): a cluster that mixes this release with the one
 * before works as long as no model names a device; a value that needs format 2 is written so, and
 * the previous release refuses it by name (set a device once every node runs this release).
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

  /** Separates a type's name from its format number in a manifest ({@code Infer@2}). */
  static final char FORMAT_SEPARATOR = '@';
  /** The newest format this release reads, by manifest name; 1 for a type not listed. */
  static final Map<String, Integer> NEWEST_FORMATS = Map.of("ModelSpec", 2, "DesiredState", 2);

  /** Where {@link KryoSerializer} puts the format of the message being read, in Kryo's context. */
  static final String FORMAT_IN_CONTEXT = "shardserve.format";

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
    Kryo kryo = new Kryo(new OnlyOurClasses(), null);
    kryo.setRegistrationRequired(true);
    kryo.setReferences(false);
    for (Registration r : ALL) {
      kryo.register(r.type(), r.serializer().apply(resolver), r.id());
    }
    return kryo;
  }

  /**
   * Reads only the classes of {@link #ALL}: a class written by name, or one of the types Kryo
   * registers on its own (String, the primitives), is refused before it is read. No writer of ours
   * sends one, and both would be read as a string of whatever length the message declares,
   * allocated before anything checks it (found by {@code KryoFuzzTest}: a 10-byte message whose
   * version selector claimed a 4 GiB class name or String made the node run out of memory, which
   * makes Akka exit the JVM).
   */
  static final class OnlyOurClasses extends DefaultClassResolver {
    private static final Set<Integer> IDS = ALL.stream().map(Registration::id).collect(Collectors.toUnmodifiableSet());

    @Override
    public com.esotericsoftware.kryo.Registration readClass(Input input) {
      com.esotericsoftware.kryo.Registration r = super.readClass(input);
      if (r != null && !IDS.contains(r.getId())) {
        throw new KryoException("class id " + r.getId() + " (" + r.getType().getName()
            + ") is not one of the wire messages' registrations");
      }
      return r;
    }

    @Override
    protected com.esotericsoftware.kryo.Registration readName(Input input) {
      throw new KryoException("a class written by name is refused: only registered ids are read");
    }
  }

  public static boolean isRegistered(Class<?> type) {
    return MANIFEST_OF.containsKey(type);
  }

  /** The newest format of {@code name} (a bare manifest) this release reads. */
  static int newestFormat(String name) {
    return NEWEST_FORMATS.getOrDefault(name, 1);
  }

  /** The manifest of a type in format 1 (its bare registration name). */
  static String manifestOf(Class<?> type) {
    String m = MANIFEST_OF.get(type);
    if (m == null) {
      throw new IllegalArgumentException("no Kryo registration for " + type.getName());
    }
    return m;
  }

  /**
   * The format this release writes {@code value} in: the oldest that holds it, so that the
   * previous release reads it whenever it can (format 2 only for a model spec, or a desired state
   * with a model spec, whose device is not {@code any}).
   */
  static int writtenFormat(Object value) {
    if (value instanceof ModelSpec s) {
      return s.device() == Device.ANY ? 1 : 2;
    }
    if (value instanceof DesiredState d) {
      for (ModelSpec s : d.models().values()) {
        if (s.device() != Device.ANY) {
          return 2;
        }
      }
    }
    return 1;
  }

  /** The manifest {@code value} is written with: its registration's name, with its format when that is not 1. */
  static String manifestOf(Object value) {
    String m = manifestOf(value.getClass());
    int format = writtenFormat(value);
    return format == 1 ? m : m + FORMAT_SEPARATOR + format;
  }

  /** The format of the message a serializer is reading now (1 when none is set). */
  static int formatBeingRead(Kryo kryo) {
    Object f = kryo.getContext().get(FORMAT_IN_CONTEXT);
    return f instanceof Integer i ? i : 1;
  }

  /**
   * The class a manifest names; throws {@link FutureFormatException} when it names a format newer
   * than this release reads, and {@link IllegalArgumentException} when it names no known type.
   */
  static Class<?> classOf(String manifest) {
    int at = manifest.indexOf(FORMAT_SEPARATOR);
    String name = at < 0 ? manifest : manifest.substring(0, at);
    Class<?> c = BY_MANIFEST.get(name);
    if (c == null) {
      throw new IllegalArgumentException("unknown manifest '" + manifest + "'");
    }
    int format = formatOf(manifest);
    if (format > newestFormat(name)) {
      throw new FutureFormatException(name, format);
    }
    return c;
  }

  /** The format number a manifest names: 1 for a bare name, n for {@code Name@n}. */
  static int formatOf(String manifest) {
    int at = manifest.indexOf(FORMAT_SEPARATOR);
    if (at < 0) {
      return 1;
    }
    String suffix = manifest.substring(at + 1);
    int format;
    try {
      format = Integer.parseInt(suffix);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("malformed manifest '" + manifest + "': '" + suffix
          + "' is not a format number");
    }
    if (format < 2) {
      throw new IllegalArgumentException("malformed manifest '" + manifest + "': format 1 is named by the bare "
          + "manifest, later formats by @2, @3, ...");
    }
    return format;
  }

  /** A message in a format newer than this release reads: it was sent by a newer release. */
  static final class FutureFormatException extends IllegalArgumentException {
    final String type;
    final int format;

    FutureFormatException(String type, int format) {
      super(type + " in format " + format + ", but this release reads formats 1.." + newestFormat(type) + " of "
          + type + ": the sender runs a newer release; upgrade this process, or have the newer release "
          + "write the older format until the upgrade is done");
      this.type = type;
      this.format = format;
    }
  }
}
