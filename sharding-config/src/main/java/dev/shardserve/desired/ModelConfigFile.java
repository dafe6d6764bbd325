package dev.shardserve.desired;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.MessageOptions;
import com.google.protobuf.Descriptors;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.TextFormat;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dev.shardserve.protocol.ModelName;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Reads a model config file into a {@link DesiredState}. Two formats:
 * <ul>
 *   <li>shardserve's own, HOCON or JSON: {@code models { <name> { base-path, version-policy,
 *       labels, replicas, stateful, batching, request-timeout, device } }} and
 *       {@code discover-repository} (README);
 *   <li>TensorFlow Serving's {@code --model_config_file}: protobuf text
 *       {@code model_config_list { config { name base_path model_version_policy version_labels } }},
 *       parsed by protobuf's own text parser against the message shapes of TF Serving's
 *       {@code model_server_config.proto}, so a TF Serving deployment moves over unchanged.
 * </ul>
 * The protobuf format is recognised by its {@code model_config_list} field. A file that names its
 * models serves only those ({@code discover-repository} defaults to false), as TF Serving does.
 * Every error names the file and the bad field or value.
 */
public final class ModelConfigFile {

  private static final Set<String> MODEL_KEYS = Set.of("base-path", "version-policy", "labels", "replicas",
      "stateful", "batching", "request-timeout", "device");

  private ModelConfigFile() {}

  public static DesiredState read(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read model config file " + file + ": " + e);
    }
    try {
      return text.contains("model_config_list") ? parseTfServing(text) : parseHocon(text, isJson(file));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("model config file " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * TF Serving's Docker image convention: {@code MODEL_NAME} served from
   * {@code MODEL_BASE_PATH/MODEL_NAME} ({@code MODEL_BASE_PATH} defaults to {@code /models}).
   * Null when {@code MODEL_NAME} is unset.
   */
  public static DesiredState fromTfServingEnvironment(Map<String, String> env) {
    String name = env.get("MODEL_NAME");
    if (name == null || name.isBlank()) {
      return null;
    }
    if (!ModelName.isValid(name)) {
      throw new IllegalArgumentException("MODEL_NAME '" + name + "' is not a valid model name");
    }
    String base = env.getOrDefault("MODEL_BASE_PATH", "/models");
    TreeMap<String, ModelSpec> models = new TreeMap<>();
    models.put(name, ModelSpec.DEFAULT.withBasePath(Path.of(base, name).toString()));
    return new DesiredState(false, models);
  }

  /**
   * TF Serving's {@code ModelServerConfig} in protobuf text ({@code model_config_list { config
   * {...} }}), as a desired state serving exactly those models: what TF Serving's gRPC
   * {@code HandleReloadConfigRequest} carries. Throws IllegalArgumentException naming the bad field.
   */
  public static DesiredState fromTfServingText(String text) {
    return parseTfServing(text);
  }

  private static boolean isJson(Path file) {
    return file.getFileName().toString().toLowerCase().endsWith(".json");
  }

  // ---- shardserve's format ----

  static DesiredState parseHocon(String text, boolean json) {
    Config c;
    try {
      c = ConfigFactory.parseString(text, ConfigParseOptions.defaults()
          .setSyntax(json ? ConfigSyntax.JSON : ConfigSyntax.CONF)).resolve();
    } catch (ConfigException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    for (String key : c.root().keySet()) {
      if (!key.equals("models") && !key.equals("discover-repository")) {
        throw new IllegalArgumentException("unknown top-level field '" + key
            + "': expected 'models' and optionally 'discover-repository'");
      }
    }
    boolean discover = c.hasPath("discover-repository") && bool(c.root().get("discover-repository"),
        "discover-repository");
    TreeMap<String, ModelSpec> models = new TreeMap<>();
    if (c.root().containsKey("models")) {
      ConfigValue m = c.root().get("models");
      if (m.valueType() != ConfigValueType.OBJECT) {
        throw new IllegalArgumentException("'models' must be an object of model name -> settings, was "
            + m.valueType());
      }
      for (Map.Entry<String, ConfigValue> e : ((ConfigObject) m).entrySet()) {
        String name = e.getKey();
        if (!ModelName.isValid(name)) {
          throw new IllegalArgumentException("invalid model name '" + name + "'");
        }
        if (e.getValue().valueType() != ConfigValueType.OBJECT) {
          throw new IllegalArgumentException("models." + name + " must be an object, was "
              + e.getValue().valueType());
        }
        models.put(name, parseModel(name, (ConfigObject) e.getValue()));
      }
    }
    return new DesiredState(discover, models);
  }

  private static ModelSpec parseModel(String name, ConfigObject o) {
    String at = "models." + name;
    for (String key : o.keySet()) {
      if (!MODEL_KEYS.contains(key)) {
        throw new IllegalArgumentException(at + ": unknown field '" + key + "', expected one of "
            + new TreeSet<>(MODEL_KEYS));
      }
    }
    try {
      String base = o.containsKey("base-path") ? string(o.get("base-path"), at + ".base-path") : "";
      VersionPolicy policy = o.containsKey("version-policy")
          ? SpecValues.policy(o.get("version-policy").unwrapped(), at + ".version-policy")
          : VersionPolicy.DEFAULT;
      TreeMap<String, Long> labels = new TreeMap<>();
      if (o.containsKey("labels")) {
        labels.putAll(SpecValues.labels(o.get("labels").unwrapped(), at + ".labels"));
      }
      int replicas = o.containsKey("replicas") ? SpecValues.replicas(o.get("replicas").unwrapped(),
          at + ".replicas") : ModelSpec.AUTO_REPLICAS;
      boolean stateful = o.containsKey("stateful") && bool(o.get("stateful"), at + ".stateful");
      BatchingSpec batching = o.containsKey("batching")
          ? SpecValues.batching(o.get("batching").unwrapped(), at + ".batching", BatchingSpec.DEFAULT)
          : BatchingSpec.DEFAULT;
      long timeout = o.containsKey("request-timeout")
          ? SpecValues.timeoutMillis(o.get("request-timeout").unwrapped(), at + ".request-timeout")
          : ModelSpec.DEFAULT_TIMEOUT_MILLIS;
      Device device = o.containsKey("device") ? SpecValues.device(o.get("device").unwrapped(), at + ".device")
          : Device.ANY;
      return new ModelSpec(base, policy, labels, replicas, stateful, true, batching, timeout, device);
    } catch (IllegalArgumentException e) {
      throw e.getMessage().startsWith(at) ? e : new IllegalArgumentException(at + ": " + e.getMessage(), e);
    }
  }

  private static String string(ConfigValue v, String at) {
    if (v.valueType() != ConfigValueType.STRING) {
      throw new IllegalArgumentException(at + " must be a string, was " + v.render());
    }
    return (String) v.unwrapped();
  }

  private static boolean bool(ConfigValue v, String at) {
    if (v.valueType() != ConfigValueType.BOOLEAN) {
      throw new IllegalArgumentException(at + " must be true or false, was " + v.render());
    }
    return (Boolean) v.unwrapped();
  }

  // ---- TF Serving's format ----

  private static final Descriptors.Descriptor MODEL_SERVER_CONFIG = tfServingDescriptors();

  static DesiredState parseTfServing(String text) {
    DynamicMessage.Builder b = DynamicMessage.newBuilder(MODEL_SERVER_CONFIG);
    try {
      TextFormat.Parser.newBuilder().setAllowUnknownFields(true).build().merge(text, b);
    } catch (TextFormat.ParseException e) {
      throw new IllegalArgumentException("not a valid TF Serving model_config_list: " + e.getMessage(), e);
    }
    DynamicMessage root = b.build();
    DynamicMessage list = (DynamicMessage) root.getField(field(MODEL_SERVER_CONFIG, "model_config_list"));
    Descriptors.Descriptor listType = list.getDescriptorForType();
    TreeMap<String, ModelSpec> models = new TreeMap<>();
    @SuppressWarnings("unchecked")
    List<DynamicMessage> configs = (List<DynamicMessage>) list.getField(field(listType, "config"));
    for (DynamicMessage config : configs) {
      Descriptors.Descriptor t = config.getDescriptorForType();
      String name = (String) config.getField(field(t, "name"));
      if (!ModelName.isValid(name)) {
        throw new IllegalArgumentException("config.name '" + name + "' is not a valid model name");
      }
      if (models.containsKey(name)) {
        throw new IllegalArgumentException("model '" + name + "' is configured twice");
      }
      String platform = (String) config.getField(field(t, "model_platform"));
      if (!platform.isEmpty() && !platform.equals("tensorflow")) {
        throw new IllegalArgumentException("model '" + name + "': model_platform '" + platform
            + "' is not served here; only 'tensorflow'");
      }
      String base = (String) config.getField(field(t, "base_path"));
      if (base.isEmpty()) {
        throw new IllegalArgumentException("model '" + name + "' has no base_path");
      }
      VersionPolicy policy = VersionPolicy.DEFAULT;
      if (config.hasField(field(t, "model_version_policy"))) {
        policy = tfPolicy(name, (DynamicMessage) config.getField(field(t, "model_version_policy")));
      }
      TreeMap<String, Long> labels = new TreeMap<>();
      @SuppressWarnings("unchecked")
      List<DynamicMessage> entries = (List<DynamicMessage>) config.getField(field(t, "version_labels"));
      for (DynamicMessage entry : entries) {
        Descriptors.Descriptor et = entry.getDescriptorForType();
        labels.put((String) entry.getField(field(et, "key")), (Long) entry.getField(field(et, "value")));
      }
      try {
        models.put(name, new ModelSpec(base, policy, labels, ModelSpec.AUTO_REPLICAS, false, true));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("model '" + name + "': " + e.getMessage(), e);
      }
    }
    return new DesiredState(false, models);
  }

  private static VersionPolicy tfPolicy(String name, DynamicMessage p) {
    Descriptors.Descriptor t = p.getDescriptorForType();
    if (p.hasField(field(t, "latest"))) {
      DynamicMessage latest = (DynamicMessage) p.getField(field(t, "latest"));
      int n = (Integer) latest.getField(field(latest.getDescriptorForType(), "num_versions"));
      return new VersionPolicy.Latest(n == 0 ? 1 : n);
    }
    if (p.hasField(field(t, "all"))) {
      return VersionPolicy.All.INSTANCE;
    }
    if (p.hasField(field(t, "specific"))) {
      DynamicMessage s = (DynamicMessage) p.getField(field(t, "specific"));
      @SuppressWarnings("unchecked")
      List<Long> versions = (List<Long>) s.getField(field(s.getDescriptorForType(), "versions"));
      if (versions.isEmpty()) {
        throw new IllegalArgumentException("model '" + name + "': model_version_policy.specific lists no versions");
      }
      return new VersionPolicy.Specific(new TreeSet<>(versions));
    }
    return VersionPolicy.DEFAULT;
  }

  private static Descriptors.FieldDescriptor field(Descriptors.Descriptor d, String name) {
    return d.findFieldByName(name);
  }

  /**
   * The message shapes of TF Serving's {@code model_server_config.proto} and
   * {@code file_system_storage_path_source.proto} that a model config file uses, with their
   * field numbers; fields outside them (logging_config, custom configs) are skipped.
   */
  private static Descriptors.Descriptor tfServingDescriptors() {
    FieldDescriptorProto.Label optional = FieldDescriptorProto.Label.LABEL_OPTIONAL;
    FieldDescriptorProto.Label repeated = FieldDescriptorProto.Label.LABEL_REPEATED;
    DescriptorProto latest = message("Latest", scalar("num_versions", 1, FieldDescriptorProto.Type.TYPE_UINT32,
        optional));
    DescriptorProto all = DescriptorProto.newBuilder().setName("All").build();
    DescriptorProto specific = message("Specific", scalar("versions", 1, FieldDescriptorProto.Type.TYPE_INT64,
        repeated));
    DescriptorProto policy = DescriptorProto.newBuilder().setName("ServableVersionPolicy")
        .addNestedType(latest).addNestedType(all).addNestedType(specific)
        .addField(ref("latest", 100, ".shardserve.tfs.ServableVersionPolicy.Latest", optional))
        .addField(ref("all", 101, ".shardserve.tfs.ServableVersionPolicy.All", optional))
        .addField(ref("specific", 102, ".shardserve.tfs.ServableVersionPolicy.Specific", optional))
        .build();
    DescriptorProto labelsEntry = DescriptorProto.newBuilder().setName("VersionLabelsEntry")
        .addField(scalar("key", 1, FieldDescriptorProto.Type.TYPE_STRING, optional))
        .addField(scalar("value", 2, FieldDescriptorProto.Type.TYPE_INT64, optional))
        .setOptions(MessageOptions.newBuilder().setMapEntry(true))
        .build();
    DescriptorProto modelConfig = DescriptorProto.newBuilder().setName("ModelConfig")
        .addNestedType(labelsEntry)
        .addField(scalar("name", 1, FieldDescriptorProto.Type.TYPE_STRING, optional))
        .addField(scalar("base_path", 2, FieldDescriptorProto.Type.TYPE_STRING, optional))
        .addField(scalar("model_platform", 4, FieldDescriptorProto.Type.TYPE_STRING, optional))
        .addField(ref("model_version_policy", 7, ".shardserve.tfs.ServableVersionPolicy", optional))
        .addField(ref("version_labels", 8, ".shardserve.tfs.ModelConfig.VersionLabelsEntry", repeated))
        .build();
    DescriptorProto list = message("ModelConfigList", ref("config", 1, ".shardserve.tfs.ModelConfig", repeated));
    DescriptorProto server = message("ModelServerConfig",
        ref("model_config_list", 1, ".shardserve.tfs.ModelConfigList", optional));
    FileDescriptorProto file = FileDescriptorProto.newBuilder()
        .setName("shardserve/tfs_model_server_config.proto").setPackage("shardserve.tfs").setSyntax("proto3")
        .addMessageType(policy).addMessageType(modelConfig).addMessageType(list).addMessageType(server)
        .build();
    try {
      return Descriptors.FileDescriptor.buildFrom(file, new Descriptors.FileDescriptor[0])
          .findMessageTypeByName("ModelServerConfig");
    } catch (Descriptors.DescriptorValidationException e) {
      throw new IllegalStateException("TF Serving config descriptors are invalid", e);
    }
  }

  private static DescriptorProto message(String name, FieldDescriptorProto field) {
    return DescriptorProto.newBuilder().setName(name).addField(field).build();
  }

  private static FieldDescriptorProto scalar(String name, int number, FieldDescriptorProto.Type type,
      FieldDescriptorProto.Label label) {
    return FieldDescriptorProto.newBuilder().setName(name).setNumber(number).setType(type).setLabel(label).build();
  }

  private static FieldDescriptorProto ref(String name, int number, String typeName, FieldDescriptorProto.Label label) {
    return FieldDescriptorProto.newBuilder().setName(name).setNumber(number)
        .setType(FieldDescriptorProto.Type.TYPE_MESSAGE).setTypeName(typeName).setLabel(label).build();
  }
}
