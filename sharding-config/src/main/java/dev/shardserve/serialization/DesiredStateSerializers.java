package dev.shardserve.serialization;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import dev.shardserve.desired.BatchingSpec;
import dev.shardserve.desired.DesiredState;
import dev.shardserve.desired.Device;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.desired.VersionPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Kryo serializers for the desired state. It is stored on disk (durable Distributed Data) as well
 * as sent between nodes, so the format starts with a format number: a later release reads what
 * an older one wrote, and refuses, by name, a format it does not know. The manifest's format
 * ({@link KryoRegistrations}) adds to that layout: in manifest format 2 every model spec is
 * followed by its device's wire number; format 1 has none (device {@code any}).
 */
final class DesiredStateSerializers {
  /** 1: the lifecycle release; 2: adds batching and the request timeout. */
  private static final int FORMAT = 2;

  private DesiredStateSerializers() {}

  static final class DesiredStateSerializer extends ProtocolSerializers.Immutable<DesiredState> {
    @Override
    public void write(Kryo kryo, Output out, DesiredState s) {
      boolean devices = KryoRegistrations.writtenFormat(s) >= 2;
      out.writeVarInt(FORMAT, true);
      out.writeBoolean(s.discoverRepository());
      out.writeVarInt(s.models().size(), true);
      for (Map.Entry<String, ModelSpec> e : s.models().entrySet()) {
        out.writeString(e.getKey());
        writeSpec(out, e.getValue());
        if (devices) {
          out.writeVarInt(e.getValue().device().wire(), true);
        }
      }
    }

    @Override
    public DesiredState read(Kryo kryo, Input in, Class<? extends DesiredState> type) {
      boolean devices = KryoRegistrations.formatBeingRead(kryo) >= 2;
      int format = readFormat(in, "desired state");
      boolean discover = in.readBoolean();
      int n = DeclaredLength.read(in, 7, "desired state models");
      TreeMap<String, ModelSpec> models = new TreeMap<>();
      for (int i = 0; i < n; i++) {
        String name = DeclaredLength.readString(in, "model name");
        ModelSpec spec = readSpec(in, format);
        models.put(name, devices ? spec.withDevice(readDevice(in)) : spec);
      }
      return new DesiredState(discover, models);
    }
  }

  static final class ModelSpecSerializer extends ProtocolSerializers.Immutable<ModelSpec> {
    @Override
    public void write(Kryo kryo, Output out, ModelSpec s) {
      out.writeVarInt(FORMAT, true);
      writeSpec(out, s);
      if (KryoRegistrations.writtenFormat(s) >= 2) {
        out.writeVarInt(s.device().wire(), true);
      }
    }

    @Override
    public ModelSpec read(Kryo kryo, Input in, Class<? extends ModelSpec> type) {
      boolean device = KryoRegistrations.formatBeingRead(kryo) >= 2;
      ModelSpec spec = readSpec(in, readFormat(in, "model spec"));
      return device ? spec.withDevice(readDevice(in)) : spec;
    }
  }

  /** A device's wire number; an unknown one is refused (a newer release's device), never guessed. */
  private static Device readDevice(Input in) {
    int wire = in.readVarInt(true);
    try {
      return Device.fromWire(wire);
    } catch (IllegalArgumentException e) {
      throw new KryoException("model spec: " + e.getMessage());
    }
  }

  private static int readFormat(Input in, String what) {
    int format = in.readVarInt(true);
    if (format < 1 || format > FORMAT) {
      throw new KryoException(what + " written in format " + format + ", this release reads formats 1.." + FORMAT
          + ": it was written by a newer release");
    }
    return format;
  }

  static void writeSpec(Output out, ModelSpec s) {
    out.writeString(s.basePath());
    VersionPolicy p = s.policy();
    if (p instanceof VersionPolicy.Latest l) {
      out.writeByte(0);
      out.writeVarInt(l.count(), true);
    } else if (p instanceof VersionPolicy.Specific sp) {
      out.writeByte(2);
      out.writeVarInt(sp.versions().size(), true);
      for (long v : sp.versions()) {
        out.writeVarLong(v, true);
      }
    } else {
      out.writeByte(1);
    }
    out.writeVarInt(s.labels().size(), true);
    for (Map.Entry<String, Long> e : s.labels().entrySet()) {
      out.writeString(e.getKey());
      out.writeVarLong(e.getValue(), true);
    }
    out.writeVarInt(s.replicas(), true);
    out.writeBoolean(s.stateful());
    out.writeBoolean(s.loaded());
    BatchingSpec b = s.batching();
    out.writeBoolean(b.enabled());
    out.writeVarInt(b.maxBatchSize(), true);
    out.writeVarLong(b.maxQueueDelayMicros(), true);
    out.writeVarInt(b.maxQueuedRequests(), true);
    out.writeVarInt(b.allowedBatchSizes().size(), true);
    for (int size : b.allowedBatchSizes()) {
      out.writeVarInt(size, true);
    }
    out.writeVarInt(b.parallelBatches(), true);
    out.writeBoolean(b.splitLargeRequests());
    out.writeVarLong(s.requestTimeoutMillis(), true);
  }

  static ModelSpec readSpec(Input in, int format) {
    String base = DeclaredLength.readString(in, "base path");
    int kind = in.readByte();
    VersionPolicy policy;
    switch (kind) {
      case 0:
        policy = new VersionPolicy.Latest(in.readVarInt(true));
        break;
      case 1:
        policy = VersionPolicy.All.INSTANCE;
        break;
      case 2: {
        int n = DeclaredLength.read(in, 1, "specific versions");
        TreeSet<Long> versions = new TreeSet<>();
        for (int i = 0; i < n; i++) {
          versions.add(in.readVarLong(true));
        }
        policy = new VersionPolicy.Specific(versions);
        break;
      }
      default:
        throw new KryoException("unknown version policy kind " + kind);
    }
    int n = DeclaredLength.read(in, 2, "labels");
    TreeMap<String, Long> labels = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      labels.put(DeclaredLength.readString(in, "label"), in.readVarLong(true));
    }
    int replicas = in.readVarInt(true);
    boolean stateful = in.readBoolean();
    boolean loaded = in.readBoolean();
    if (format < 2) {
      return new ModelSpec(base, policy, labels, replicas, stateful, loaded);
    }
    boolean enabled = in.readBoolean();
    int maxBatch = in.readVarInt(true);
    long delay = in.readVarLong(true);
    int maxQueued = in.readVarInt(true);
    int sizes = DeclaredLength.read(in, 1, "allowed batch sizes");
    List<Integer> allowed = new ArrayList<>(sizes);
    for (int i = 0; i < sizes; i++) {
      allowed.add(in.readVarInt(true));
    }
    int parallel = in.readVarInt(true);
    boolean split = in.readBoolean();
    long timeout = in.readVarLong(true);
    return new ModelSpec(base, policy, labels, replicas, stateful, loaded,
        new BatchingSpec(enabled, maxBatch, delay, maxQueued, allowed, parallel, split), timeout);
  }
}
