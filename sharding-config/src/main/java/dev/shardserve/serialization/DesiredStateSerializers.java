package dev.shardserve.serialization;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import dev.shardserve.desired.DesiredState;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.desired.VersionPolicy;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Kryo serializers for the desired state. It is stored on disk (durable Distributed Data) as well
 * as sent between nodes, so the format starts with a format number: a later release reads what
 * an older one wrote, and refuses, by name, a format it does not know.
 */
final class DesiredStateSerializers {
  private static final int FORMAT = 1;

  private DesiredStateSerializers() {}

  static final class DesiredStateSerializer extends ProtocolSerializers.Immutable<DesiredState> {
    @Override
    public void write(Kryo kryo, Output out, DesiredState s) {
      out.writeVarInt(FORMAT, true);
      out.writeBoolean(s.discoverRepository());
      out.writeVarInt(s.models().size(), true);
      for (Map.Entry<String, ModelSpec> e : s.models().entrySet()) {
        out.writeString(e.getKey());
        writeSpec(out, e.getValue());
      }
    }

    @Override
    public DesiredState read(Kryo kryo, Input in, Class<? extends DesiredState> type) {
      int format = in.readVarInt(true);
      if (format != FORMAT) {
        throw new KryoException("desired state written in format " + format + ", this release reads " + FORMAT);
      }
      boolean discover = in.readBoolean();
      int n = in.readVarInt(true);
      TreeMap<String, ModelSpec> models = new TreeMap<>();
      for (int i = 0; i < n; i++) {
        models.put(in.readString(), readSpec(in));
      }
      return new DesiredState(discover, models);
    }
  }

  static final class ModelSpecSerializer extends ProtocolSerializers.Immutable<ModelSpec> {
    @Override
    public void write(Kryo kryo, Output out, ModelSpec s) {
      out.writeVarInt(FORMAT, true);
      writeSpec(out, s);
    }

    @Override
    public ModelSpec read(Kryo kryo, Input in, Class<? extends ModelSpec> type) {
      int format = in.readVarInt(true);
      if (format != FORMAT) {
        throw new KryoException("model spec written in format " + format + ", this release reads " + FORMAT);
      }
      return readSpec(in);
    }
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
  }

  static ModelSpec readSpec(Input in) {
    String base = in.readString();
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
        int n = in.readVarInt(true);
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
    int n = in.readVarInt(true);
    TreeMap<String, Long> labels = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      labels.put(in.readString(), in.readVarLong(true));
    }
    int replicas = in.readVarInt(true);
    boolean stateful = in.readBoolean();
    boolean loaded = in.readBoolean();
    return new ModelSpec(base, policy, labels, replicas, stateful, loaded);
  }
}
