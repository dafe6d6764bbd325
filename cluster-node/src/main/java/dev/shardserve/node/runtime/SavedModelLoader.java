package dev.shardserve.node.runtime;

import dev.shardserve.desired.Device;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol;
import dev.shardserve.protocol.ModelProtocol.SignatureInfo;
import dev.shardserve.protocol.ModelProtocol.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Loads one version folder into a {@link LoadedModel}: a folder with {@code simulated.json} and no
 * {@code saved_model.pb} is a simulated model ({@link SimulatedSpec}, served by the node's
 * simulated accelerators); any other is a SavedModel (tag {@code serve}). A model whose
 * {@code device} is {@code gpu} refuses to load on a node without a GPU.
 *
 * <p>A SavedModel is loaded so:
 * reads {@code saved_model.pb} once, takes the signatures from its raw {@code SignatureDef}s
 * (an input of unknown rank keeps that fact), and opens a session with the node's settings.
 *
 * <p>TensorFlow Java validates every signature at load and rejects the whole model if one is
 * wrong; TensorFlow Serving loads such models (its {@code saved_model_half_plus_three} is one).
 * So when that check fails the graph is loaded from a copy without signatures, and signatures
 * are taken from the original file: a broken signature then fails when called, not at load.
 */
public final class SavedModelLoader {
  public static final String SERVE_TAG = "serve";
  static final String SAVED_MODEL = "saved_model.pb";

  private SavedModelLoader() {}

  /** True when {@code dir} holds a model this loader can load: {@code saved_model.pb} or {@code simulated.json}. */
  public static boolean holdsModel(Path dir) {
    return Files.isRegularFile(dir.resolve(SAVED_MODEL)) || Files.isRegularFile(dir.resolve(SimulatedSpec.FILE));
  }

  /** Loads {@code dir} (a version folder); throws {@link InferenceException} with the reason. */
  public static LoadedModel load(Path dir, long version, SessionSettings session) {
    if (session.device() == Device.GPU && session.gpus() == 0) {
      throw new InferenceException(ErrorCode.MODEL_LOAD_FAILED, "the model's device is gpu and this node has no "
          + "GPU (it advertises none: see the README's GPU section); not loading " + dir);
    }
    if (!Files.isRegularFile(dir.resolve(SAVED_MODEL)) && Files.isRegularFile(dir.resolve(SimulatedSpec.FILE))) {
      return loadSimulated(dir, version, session);
    }
    if (!Files.isRegularFile(dir.resolve(SAVED_MODEL))) {
      throw new InferenceException(ErrorCode.MODEL_LOAD_FAILED, "no saved_model.pb (nor simulated.json) in " + dir);
    }
    SavedModel savedModel;
    try {
      savedModel = SavedModel.parseFrom(Files.readAllBytes(dir.resolve("saved_model.pb")));
    } catch (IOException e) {
      throw new InferenceException(ErrorCode.MODEL_LOAD_FAILED, "cannot read " + dir + ": " + e.getMessage(), e);
    }
    Map<String, SignatureInfo> signatures = signatures(serveMetaGraph(savedModel, dir));
    try {
      return new LoadedModel(version, loadBundle(dir, session), signatures, null);
    } catch (IllegalArgumentException invalidSignature) {
      Path copy = withoutSignatures(dir, savedModel);
      try {
        return new LoadedModel(version, loadBundle(copy, session), signatures, copy);
      } catch (RuntimeException e) {
        deleteRecursively(copy);
        throw loadFailure(dir, e);
      }
    } catch (RuntimeException e) {
      throw loadFailure(dir, e);
    }
  }

  private static LoadedModel loadSimulated(Path dir, long version, SessionSettings session) {
    SimulatedSpec spec = SimulatedSpec.read(dir.resolve(SimulatedSpec.FILE));
    if (session.simulator() == null) {
      throw new InferenceException(ErrorCode.MODEL_LOAD_FAILED, "cannot load the simulated model in " + dir
          + ": this process runs no simulated accelerators (a worker node does)");
    }
    SignatureInfo info = spec.signature();
    String key = ModelProtocol.DEFAULT_SIGNATURE;
    return new LoadedModel(version, new SimulatedBackend(spec, session.simulator()), Map.of(key, info),
        Map.of(key, PreparedSignature.declared(key, info)));
  }

  private static SavedModelBundle loadBundle(Path dir, SessionSettings session) {
    return SavedModelBundle.loader(dir.toString()).withTags(SERVE_TAG).withConfigProto(session.toProto()).load();
  }

  private static InferenceException loadFailure(Path dir, RuntimeException e) {
    return new InferenceException(ErrorCode.MODEL_LOAD_FAILED, "failed to load " + dir + ": " + e.getMessage(), e);
  }

  private static MetaGraphDef serveMetaGraph(SavedModel model, Path dir) {
    for (MetaGraphDef m : model.getMetaGraphsList()) {
      if (m.getMetaInfoDef().getTagsList().contains(SERVE_TAG)) {
        return m;
      }
    }
    throw new InferenceException(ErrorCode.MODEL_LOAD_FAILED, "no meta graph tagged 'serve' in " + dir);
  }

  private static Path withoutSignatures(Path dir, SavedModel model) {
    try {
      SavedModel.Builder stripped = model.toBuilder();
      for (int i = 0; i < stripped.getMetaGraphsCount(); i++) {
        stripped.setMetaGraphs(i, stripped.getMetaGraphs(i).toBuilder().clearSignatureDef());
      }
      Path copy = Files.createTempDirectory("shardserve-model-");
      Files.write(copy.resolve("saved_model.pb"), stripped.build().toByteArray());
      try (Stream<Path> children = Files.list(dir)) {
        for (Path child : children.toList()) {
          if (!child.getFileName().toString().equals("saved_model.pb")) {
            Files.createSymbolicLink(copy.resolve(child.getFileName().toString()), child.toAbsolutePath());
          }
        }
      }
      return copy;
    } catch (IOException e) {
      throw new InferenceException(ErrorCode.MODEL_LOAD_FAILED, "cannot prepare " + dir + ": " + e.getMessage(), e);
    }
  }

  static Map<String, SignatureInfo> signatures(MetaGraphDef meta) {
    Map<String, SignatureInfo> out = new TreeMap<>();
    for (Map.Entry<String, SignatureDef> e : meta.getSignatureDefMap().entrySet()) {
      SignatureDef def = e.getValue();
      out.put(e.getKey(), new SignatureInfo(def.getMethodName(), infos(def.getInputsMap()), infos(def.getOutputsMap())));
    }
    return Map.copyOf(out);
  }

  private static Map<String, TensorInfo> infos(Map<String, org.tensorflow.proto.TensorInfo> protos) {
    Map<String, TensorInfo> out = new HashMap<>();
    for (Map.Entry<String, org.tensorflow.proto.TensorInfo> e : protos.entrySet()) {
      org.tensorflow.proto.TensorInfo p = e.getValue();
      TensorShapeProto s = p.getTensorShape();
      long[] dims = s.getDimList().stream().mapToLong(TensorShapeProto.Dim::getSize).toArray();
      out.put(e.getKey(), new TensorInfo(p.getName(), p.getDtype().name(), dims, s.getUnknownRank()));
    }
    return out;
  }

  static void deleteRecursively(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // a leftover temp folder is harmless
    }
  }
}
