package dev.shardserve.serialization;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorRefResolver;
import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.Feature;
import dev.shardserve.protocol.ModelCatalog.NodeModels;
import dev.shardserve.protocol.ModelProtocol.ExampleMethod;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.GetMetadata;
import dev.shardserve.protocol.ModelProtocol.GetStatus;
import dev.shardserve.protocol.ModelProtocol.Infer;
import dev.shardserve.protocol.ModelProtocol.InferExamples;
import dev.shardserve.protocol.ModelProtocol.InferResult;
import dev.shardserve.protocol.ModelProtocol.ModelMetadata;
import dev.shardserve.protocol.ModelProtocol.ModelStatus;
import dev.shardserve.protocol.ModelProtocol.SignatureInfo;
import dev.shardserve.protocol.ModelProtocol.TensorInfo;
import dev.shardserve.protocol.ModelProtocol.VersionState;
import dev.shardserve.protocol.ModelProtocol.VersionStatus;
import dev.shardserve.protocol.Outputs;
import dev.shardserve.protocol.Tensor;
import dev.shardserve.protocol.VersionSelector;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Hand-written Kryo serializers for the protocol records: every field is written explicitly, so
 * the format depends on nothing but this file (no reflection, no field order surprises), and
 * tensor data is written as one raw byte block. Polymorphic fields (version selector, features)
 * go through {@code writeClassAndObject} and so through the fixed registration ids of
 * {@link KryoRegistrations}.
 */
final class ProtocolSerializers {
  private ProtocolSerializers() {}

  // ---- shared pieces ----

  static void writeTensor(Output out, Tensor t) {
    out.writeVarInt(t.dtype().wire(), true);
    out.writeVarInt(t.shape().length, true);
    for (long d : t.shape()) {
      out.writeVarLong(d, true);
    }
    if (t.dtype().isString()) {
      for (byte[] s : t.strings()) {
        writeBytes(out, s);
      }
    } else {
      writeBytes(out, t.data());
    }
  }

  /**
   * The one place a tensor is read: dtype, shape, then its data, each length checked against the
   * bytes left before anything is allocated (a numeric tensor's byte block must also match its
   * shape: {@code elements x dtype size}).
   */
  static Tensor readTensor(Input in) {
    DType dtype = DType.fromWire(in.readVarInt(true));
    long[] shape = readLongs(in, "tensor shape");
    long elements = Tensor.elementCount(shape);
    if (dtype.isString()) {
      int n = DeclaredLength.check(in, elements, 1, "STRING tensor of shape " + Arrays.toString(shape));
      List<byte[]> strings = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        strings.add(readBytes(in, "STRING tensor element"));
      }
      return Tensor.ofStrings(shape, strings);
    }
    int length = DeclaredLength.read(in, 1, dtype + " tensor data");
    if (length != elements * dtype.byteSize()) {
      throw new KryoException(dtype + " tensor of shape " + Arrays.toString(shape) + " needs "
          + elements * dtype.byteSize() + " bytes, the message declares " + length);
    }
    return Tensor.of(dtype, shape, in.readBytes(length));
  }

  static void writeBytes(Output out, byte[] b) {
    out.writeVarInt(b.length, true);
    out.writeBytes(b);
  }

  static byte[] readBytes(Input in, String what) {
    return DeclaredLength.readBytes(in, what);
  }

  static long[] readLongs(Input in, String what) {
    int n = DeclaredLength.read(in, 1, what);
    long[] a = new long[n];
    for (int i = 0; i < n; i++) {
      a[i] = in.readVarLong(true);
    }
    return a;
  }

  static String readString(Input in, String what) {
    return DeclaredLength.readString(in, what);
  }

  static void writeTensors(Output out, Map<String, Tensor> tensors) {
    out.writeVarInt(tensors.size(), true);
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      out.writeString(e.getKey());
      writeTensor(out, e.getValue());
    }
  }

  /**
   * The same bytes as {@link #writeTensors} of the outputs' own tensors, written straight from the
   * views into the batch's buffers (no copy of the request's rows first).
   */
  static void writeOutputs(Output out, Outputs outputs) {
    out.writeVarInt(outputs.size(), true);
    for (int i = 0; i < outputs.size(); i++) {
      out.writeString(outputs.name(i));
      DType dtype = outputs.dtype(i);
      long[] shape = outputs.shape(i);
      out.writeVarInt(dtype.wire(), true);
      out.writeVarInt(shape.length, true);
      for (long d : shape) {
        out.writeVarLong(d, true);
      }
      Tensor backing = outputs.backing(i);
      int from = outputs.elementOffset(i);
      int n = outputs.elementCount(i);
      if (dtype.isString()) {
        for (int k = from; k < from + n; k++) {
          writeBytes(out, backing.strings().get(k));
        }
      } else {
        int size = dtype.byteSize();
        out.writeVarInt(n * size, true);
        out.writeBytes(backing.data(), from * size, n * size);
      }
    }
  }

  static Map<String, Tensor> readTensors(Input in) {
    int n = DeclaredLength.read(in, 2, "tensor map");
    Map<String, Tensor> m = new HashMap<>(n * 2);
    for (int i = 0; i < n; i++) {
      m.put(readString(in, "tensor name"), readTensor(in));
    }
    return m;
  }

  static void writeFeatures(Kryo kryo, Output out, Map<String, Feature> features) {
    out.writeVarInt(features.size(), true);
    for (Map.Entry<String, Feature> e : features.entrySet()) {
      out.writeString(e.getKey());
      kryo.writeClassAndObject(out, e.getValue());
    }
  }

  static Map<String, Feature> readFeatures(Kryo kryo, Input in) {
    int n = DeclaredLength.read(in, 2, "feature map");
    Map<String, Feature> m = new HashMap<>(n * 2);
    for (int i = 0; i < n; i++) {
      m.put(readString(in, "feature name"), (Feature) kryo.readClassAndObject(in));
    }
    return m;
  }

  /**
   * The example methods' stable wire numbers (never the ordinal). A number this release does not
   * know is refused: a message must never run a classify as a regress.
   */
  static int exampleMethodWire(ExampleMethod method) {
    return switch (method) {
      case CLASSIFY -> 1;
      case REGRESS -> 2;
    };
  }

  static ExampleMethod exampleMethodFromWire(int wire) {
    return switch (wire) {
      case 1 -> ExampleMethod.CLASSIFY;
      case 2 -> ExampleMethod.REGRESS;
      default -> throw new KryoException("unknown example method number " + wire
          + " (this release knows 1 = CLASSIFY, 2 = REGRESS)");
    };
  }

  /**
   * TF Serving's version states by stable wire number (the numbers of
   * {@code get_model_status.proto}'s {@code State} divided by 10, which the release 1970aee wrote
   * as the enum's ordinal). A number this release does not know reads as {@code UNKNOWN}, the
   * state TF Serving itself reports for a state it cannot name.
   */
  static int versionStateWire(VersionState state) {
    return switch (state) {
      case UNKNOWN -> 0;
      case START -> 1;
      case LOADING -> 2;
      case AVAILABLE -> 3;
      case UNLOADING -> 4;
      case END -> 5;
    };
  }

  static VersionState versionStateFromWire(int wire) {
    return switch (wire) {
      case 1 -> VersionState.START;
      case 2 -> VersionState.LOADING;
      case 3 -> VersionState.AVAILABLE;
      case 4 -> VersionState.UNLOADING;
      case 5 -> VersionState.END;
      default -> VersionState.UNKNOWN;
    };
  }

  /** Typed actor refs travel in Akka's own string format, resolved on the receiving side. */
  abstract static class WithRefs<T> extends Serializer<T> {
    private final Supplier<ActorRefResolver> resolver;

    WithRefs(Supplier<ActorRefResolver> resolver) {
      super(false, true);
      this.resolver = resolver;
    }

    void writeRef(Output out, ActorRef<?> ref) {
      out.writeString(resolver.get().toSerializationFormat(ref));
    }

    <R> ActorRef<R> readRef(Input in) {
      String ref = readString(in, "actor ref");
      if (ref == null) {
        // Akka's resolver hashes a null with an unchecked Unsafe read: the JVM dies (SIGSEGV).
        throw new KryoException("actor ref: missing (null)");
      }
      return resolver.get().resolveActorRef(ref);
    }
  }

  abstract static class Immutable<T> extends Serializer<T> {
    Immutable() {
      super(false, true);
    }
  }

  // ---- commands ----

  static final class InferSerializer extends WithRefs<Infer> {
    InferSerializer(Supplier<ActorRefResolver> r) {
      super(r);
    }

    @Override
    public void write(Kryo kryo, Output out, Infer m) {
      out.writeString(m.model());
      kryo.writeClassAndObject(out, m.version());
      out.writeString(m.signatureName());
      writeTensors(out, m.inputs());
      out.writeLong(m.deadlineEpochMillis());
      writeRef(out, m.replyTo());
    }

    @Override
    public Infer read(Kryo kryo, Input in, Class<? extends Infer> type) {
      return new Infer(
          readString(in, "model name"),
          (VersionSelector) kryo.readClassAndObject(in),
          readString(in, "signature name"),
          readTensors(in),
          in.readLong(),
          readRef(in));
    }
  }

  static final class InferExamplesSerializer extends WithRefs<InferExamples> {
    InferExamplesSerializer(Supplier<ActorRefResolver> r) {
      super(r);
    }

    @Override
    public void write(Kryo kryo, Output out, InferExamples m) {
      out.writeString(m.model());
      kryo.writeClassAndObject(out, m.version());
      out.writeString(m.signatureName());
      out.writeVarInt(exampleMethodWire(m.method()), true);
      out.writeVarInt(m.examples().size(), true);
      for (Map<String, Feature> example : m.examples()) {
        writeFeatures(kryo, out, example);
      }
      writeFeatures(kryo, out, m.context());
      out.writeLong(m.deadlineEpochMillis());
      writeRef(out, m.replyTo());
    }

    @Override
    public InferExamples read(Kryo kryo, Input in, Class<? extends InferExamples> type) {
      String model = readString(in, "model name");
      VersionSelector version = (VersionSelector) kryo.readClassAndObject(in);
      String signature = readString(in, "signature name");
      ExampleMethod method = exampleMethodFromWire(in.readVarInt(true));
      int n = DeclaredLength.read(in, 1, "examples");
      List<Map<String, Feature>> examples = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        examples.add(readFeatures(kryo, in));
      }
      Map<String, Feature> context = readFeatures(kryo, in);
      return new InferExamples(model, version, signature, method, examples, context, in.readLong(), readRef(in));
    }
  }

  static final class GetStatusSerializer extends WithRefs<GetStatus> {
    GetStatusSerializer(Supplier<ActorRefResolver> r) {
      super(r);
    }

    @Override
    public void write(Kryo kryo, Output out, GetStatus m) {
      out.writeString(m.model());
      kryo.writeClassAndObject(out, m.version());
      writeRef(out, m.replyTo());
    }

    @Override
    public GetStatus read(Kryo kryo, Input in, Class<? extends GetStatus> type) {
      return new GetStatus(readString(in, "model name"), (VersionSelector) kryo.readClassAndObject(in),
          readRef(in));
    }
  }

  static final class GetMetadataSerializer extends WithRefs<GetMetadata> {
    GetMetadataSerializer(Supplier<ActorRefResolver> r) {
      super(r);
    }

    @Override
    public void write(Kryo kryo, Output out, GetMetadata m) {
      out.writeString(m.model());
      kryo.writeClassAndObject(out, m.version());
      writeRef(out, m.replyTo());
    }

    @Override
    public GetMetadata read(Kryo kryo, Input in, Class<? extends GetMetadata> type) {
      return new GetMetadata(readString(in, "model name"), (VersionSelector) kryo.readClassAndObject(in),
          readRef(in));
    }
  }

  // ---- replies ----

  static final class InferResultSerializer extends Immutable<InferResult> {
    @Override
    public void write(Kryo kryo, Output out, InferResult m) {
      out.writeVarLong(m.version(), true);
      writeOutputs(out, m.outputs());
    }

    @Override
    public InferResult read(Kryo kryo, Input in, Class<? extends InferResult> type) {
      return new InferResult(in.readVarLong(true), readTensors(in));
    }
  }

  static final class FailureSerializer extends Immutable<Failure> {
    @Override
    public void write(Kryo kryo, Output out, Failure m) {
      out.writeVarInt(m.code().wire(), true);
      out.writeString(m.message());
    }

    @Override
    public Failure read(Kryo kryo, Input in, Class<? extends Failure> type) {
      return new Failure(ErrorCode.fromWire(in.readVarInt(true)), readString(in, "failure message"));
    }
  }

  static final class ModelStatusSerializer extends Immutable<ModelStatus> {
    @Override
    public void write(Kryo kryo, Output out, ModelStatus m) {
      out.writeVarInt(m.versions().size(), true);
      for (VersionStatus v : m.versions()) {
        out.writeVarLong(v.version(), true);
        out.writeVarInt(versionStateWire(v.state()), true);
        out.writeVarInt(v.errorCode() == null ? 0 : v.errorCode().wire(), true);
        out.writeString(v.errorMessage());
      }
      out.writeVarInt(m.onDisk().size(), true);
      for (long v : m.onDisk()) {
        out.writeVarLong(v, true);
      }
    }

    @Override
    public ModelStatus read(Kryo kryo, Input in, Class<? extends ModelStatus> type) {
      int n = DeclaredLength.read(in, 4, "version statuses");
      List<VersionStatus> versions = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        long version = in.readVarLong(true);
        int state = in.readVarInt(true);
        int code = in.readVarInt(true);
        versions.add(new VersionStatus(
            version,
            versionStateFromWire(state),
            code == 0 ? null : ErrorCode.fromWire(code),
            readString(in, "version error message")));
      }
      int d = DeclaredLength.read(in, 1, "versions on disk");
      java.util.TreeSet<Long> onDisk = new java.util.TreeSet<>();
      for (int i = 0; i < d; i++) {
        onDisk.add(in.readVarLong(true));
      }
      return new ModelStatus(versions, onDisk);
    }
  }

  static final class ModelMetadataSerializer extends Immutable<ModelMetadata> {
    @Override
    public void write(Kryo kryo, Output out, ModelMetadata m) {
      out.writeVarLong(m.version(), true);
      out.writeVarInt(m.signatures().size(), true);
      for (Map.Entry<String, SignatureInfo> e : m.signatures().entrySet()) {
        out.writeString(e.getKey());
        out.writeString(e.getValue().methodName());
        writeInfos(out, e.getValue().inputs());
        writeInfos(out, e.getValue().outputs());
      }
    }

    @Override
    public ModelMetadata read(Kryo kryo, Input in, Class<? extends ModelMetadata> type) {
      long version = in.readVarLong(true);
      int n = DeclaredLength.read(in, 4, "signatures");
      Map<String, SignatureInfo> sigs = new HashMap<>(n * 2);
      for (int i = 0; i < n; i++) {
        String key = readString(in, "signature key");
        String method = readString(in, "signature method name");
        sigs.put(key, new SignatureInfo(method, readInfos(in), readInfos(in)));
      }
      return new ModelMetadata(version, sigs);
    }

    private static void writeInfos(Output out, Map<String, TensorInfo> infos) {
      out.writeVarInt(infos.size(), true);
      for (Map.Entry<String, TensorInfo> e : infos.entrySet()) {
        TensorInfo t = e.getValue();
        out.writeString(e.getKey());
        out.writeString(t.name());
        out.writeString(t.dtype());
        out.writeVarInt(t.shape().length, true);
        for (long d : t.shape()) {
          out.writeLong(d);
        }
        out.writeBoolean(t.unknownRank());
      }
    }

    private static Map<String, TensorInfo> readInfos(Input in) {
      int n = DeclaredLength.read(in, 5, "tensor infos");
      Map<String, TensorInfo> m = new HashMap<>(n * 2);
      for (int i = 0; i < n; i++) {
        String key = readString(in, "tensor info key");
        String name = readString(in, "tensor info name");
        String dtype = readString(in, "tensor info dtype");
        long[] shape = new long[DeclaredLength.read(in, 8, "tensor info shape")];
        for (int d = 0; d < shape.length; d++) {
          shape[d] = in.readLong();
        }
        m.put(key, new TensorInfo(name, dtype, shape, in.readBoolean()));
      }
      return m;
    }
  }

  static final class NodeModelsSerializer extends Immutable<NodeModels> {
    @Override
    public void write(Kryo kryo, Output out, NodeModels m) {
      out.writeVarInt(m.models().size(), true);
      for (String s : m.models()) {
        out.writeString(s);
      }
      out.writeVarInt(m.cpuSlots(), true);
      out.writeVarInt(m.gpus(), true);
      out.writeVarLong(m.gpuMemoryMiB(), true);
      out.writeVarInt(m.replicas().size(), true);
      for (String r : m.replicas()) {
        out.writeString(r);
      }
    }

    @Override
    public NodeModels read(Kryo kryo, Input in, Class<? extends NodeModels> type) {
      int n = DeclaredLength.read(in, 1, "node models");
      Set<String> s = new HashSet<>(n * 2);
      for (int i = 0; i < n; i++) {
        s.add(readString(in, "model name"));
      }
      int cpu = in.readVarInt(true);
      int gpus = in.readVarInt(true);
      long gpuMemory = in.readVarLong(true);
      int r = DeclaredLength.read(in, 1, "node replicas");
      Set<String> replicas = new HashSet<>(r * 2);
      for (int i = 0; i < r; i++) {
        replicas.add(readString(in, "replica id"));
      }
      return new NodeModels(s, cpu, gpus, gpuMemory, replicas);
    }
  }

  // ---- nested values ----

  static final class LatestSerializer extends Immutable<VersionSelector.Latest> {
    @Override
    public void write(Kryo kryo, Output out, VersionSelector.Latest m) {}

    @Override
    public VersionSelector.Latest read(Kryo kryo, Input in, Class<? extends VersionSelector.Latest> type) {
      return VersionSelector.Latest.INSTANCE;
    }
  }

  static final class SpecificSerializer extends Immutable<VersionSelector.Specific> {
    @Override
    public void write(Kryo kryo, Output out, VersionSelector.Specific m) {
      out.writeVarLong(m.version(), true);
    }

    @Override
    public VersionSelector.Specific read(Kryo kryo, Input in, Class<? extends VersionSelector.Specific> type) {
      return new VersionSelector.Specific(in.readVarLong(true));
    }
  }

  static final class LabelSerializer extends Immutable<VersionSelector.Label> {
    @Override
    public void write(Kryo kryo, Output out, VersionSelector.Label m) {
      out.writeString(m.label());
    }

    @Override
    public VersionSelector.Label read(Kryo kryo, Input in, Class<? extends VersionSelector.Label> type) {
      return new VersionSelector.Label(readString(in, "version label"));
    }
  }

  static final class FloatListSerializer extends Immutable<Feature.FloatList> {
    @Override
    public void write(Kryo kryo, Output out, Feature.FloatList m) {
      out.writeVarInt(m.values().length, true);
      out.writeFloats(m.values(), 0, m.values().length);
    }

    @Override
    public Feature.FloatList read(Kryo kryo, Input in, Class<? extends Feature.FloatList> type) {
      int n = DeclaredLength.read(in, 4, "float feature");
      return new Feature.FloatList(in.readFloats(n));
    }
  }

  static final class Int64ListSerializer extends Immutable<Feature.Int64List> {
    @Override
    public void write(Kryo kryo, Output out, Feature.Int64List m) {
      out.writeVarInt(m.values().length, true);
      out.writeLongs(m.values(), 0, m.values().length);
    }

    @Override
    public Feature.Int64List read(Kryo kryo, Input in, Class<? extends Feature.Int64List> type) {
      int n = DeclaredLength.read(in, 8, "int64 feature");
      return new Feature.Int64List(in.readLongs(n));
    }
  }

  static final class BytesListSerializer extends Immutable<Feature.BytesList> {
    @Override
    public void write(Kryo kryo, Output out, Feature.BytesList m) {
      out.writeVarInt(m.values().size(), true);
      for (byte[] b : m.values()) {
        writeBytes(out, b);
      }
    }

    @Override
    public Feature.BytesList read(Kryo kryo, Input in, Class<? extends Feature.BytesList> type) {
      int n = DeclaredLength.read(in, 1, "bytes feature");
      List<byte[]> values = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        values.add(readBytes(in, "bytes feature value"));
      }
      return new Feature.BytesList(values);
    }
  }
}
