package dev.shardserve.node.runtime;

import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.Feature;
import dev.shardserve.protocol.ModelProtocol.ExampleMethod;
import dev.shardserve.protocol.ModelProtocol.SignatureInfo;
import dev.shardserve.protocol.ModelProtocol.TensorInfo;
import dev.shardserve.protocol.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.tensorflow.GraphOperation;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.exceptions.TFInvalidArgumentException;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorShapeProto;

/**
 * One loaded version of a SavedModel (tag {@code serve}): its session, its signatures read from
 * the raw {@code SignatureDef}s, and {@link #run} on named tensors. Thread-safe: TensorFlow
 * sessions accept concurrent runs. Holds native memory, released when the owner has
 * {@link #close closed} it <em>and</em> the last run that {@link #acquire acquired} it has
 * {@link #release released} it: a version retired while batches are in flight is closed after
 * they finish, never under them.
 *
 * <p>TensorFlow Java validates every signature at load and rejects the whole model if one is
 * wrong; TensorFlow Serving loads such models (its {@code saved_model_half_plus_three} is one).
 * So when that check fails the graph is loaded from a copy without signatures, and signatures
 * are taken from the original file: a broken signature then fails when called, not at load.
 */
public final class LoadedModel implements AutoCloseable {
  public static final String SERVE_TAG = "serve";
  /** Key under which a request names the signature's only input ({@code "instances": [1, 2]}). */
  public static final String SOLE_INPUT = "";

  private final long version;
  private final SavedModelBundle bundle;
  private final Map<String, SignatureInfo> signatures;
  private final Map<String, Shape> placeholderShapes;
  private final Path scratchCopy;
  /** The owner's reference plus one per run in flight; native memory is freed when it reaches 0. */
  private final AtomicInteger references = new AtomicInteger(1);
  private final AtomicBoolean ownerClosed = new AtomicBoolean();
  private final CompletableFuture<Long> freed = new CompletableFuture<>();
  private final java.util.concurrent.ConcurrentHashMap<String, Boolean> batchable =
      new java.util.concurrent.ConcurrentHashMap<>();

  private LoadedModel(long version, SavedModelBundle bundle, Map<String, SignatureInfo> signatures,
      Path scratchCopy) {
    this.version = version;
    this.bundle = bundle;
    this.signatures = signatures;
    this.scratchCopy = scratchCopy;
    this.placeholderShapes = placeholderShapes(bundle, signatures);
  }

  /** Loads {@code dir} (a version folder); throws {@link InferenceException} with the reason. */
  public static LoadedModel load(Path dir, long version, SessionSettings session) {
    if (!Files.isRegularFile(dir.resolve("saved_model.pb"))) {
      throw new InferenceException(ErrorCode.MODEL_LOAD_FAILED, "no saved_model.pb in " + dir);
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

  /** Shapes of the placeholders that signature inputs feed: what TensorFlow itself enforces. */
  private static Map<String, Shape> placeholderShapes(SavedModelBundle bundle, Map<String, SignatureInfo> sigs) {
    Map<String, Shape> out = new HashMap<>();
    for (SignatureInfo sig : sigs.values()) {
      for (TensorInfo in : sig.inputs().values()) {
        String opName = operationName(in.name());
        GraphOperation op = bundle.graph().operation(opName);
        if (op != null && op.type().equals("Placeholder")) {
          Shape shape = op.output(outputIndex(in.name())).shape();
          if (!shape.isUnknown()) {
            out.put(in.name(), shape);
          }
        }
      }
    }
    return out;
  }

  private static String operationName(String tensorName) {
    int colon = tensorName.lastIndexOf(':');
    return colon < 0 ? tensorName : tensorName.substring(0, colon);
  }

  private static int outputIndex(String tensorName) {
    int colon = tensorName.lastIndexOf(':');
    return colon < 0 ? 0 : Integer.parseInt(tensorName.substring(colon + 1));
  }

  public long version() {
    return version;
  }

  public Map<String, SignatureInfo> signatures() {
    return signatures;
  }

  /** The signature, or {@link ErrorCode#SIGNATURE_NOT_FOUND} naming it. */
  public SignatureInfo signature(String key) {
    SignatureInfo sig = signatures.get(key);
    if (sig == null) {
      throw new InferenceException(ErrorCode.SIGNATURE_NOT_FOUND,
          "Serving signature name: \"" + key + "\" not found in signature def");
    }
    return sig;
  }

  /**
   * Runs signature {@code key} on {@code inputs} (keyed by input alias, or {@link #SOLE_INPUT}),
   * returning the outputs by alias. Inputs are checked against the signature (names, dtype) and
   * the graph's placeholders (shape) first, so that errors name the input and both shapes.
   */
  public Map<String, Tensor> run(String key, Map<String, Tensor> inputs) {
    SignatureInfo sig = signature(key);
    Map<String, Tensor> feeds = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : bindInputs(key, sig, inputs).entrySet()) {
      TensorInfo info = sig.inputs().get(e.getKey());
      feeds.put(info.name(), checked(e.getKey(), info, e.getValue()));
    }
    return execute(sig, feeds);
  }

  /**
   * Checks and converts one request's inputs for signature {@code key} (names, dtype conversion,
   * shape against the graph), keyed by input alias, without running: each request of a batch is
   * checked alone, so that one bad request fails alone. Throws {@link InferenceException}.
   */
  public Map<String, Tensor> prepare(String key, Map<String, Tensor> inputs) {
    SignatureInfo sig = signature(key);
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : bindInputs(key, sig, inputs).entrySet()) {
      out.put(e.getKey(), checked(e.getKey(), sig.inputs().get(e.getKey()), e.getValue()));
    }
    return out;
  }

  /**
   * True when signature {@code key} has a batch dimension: every input and output has a known
   * rank of at least 1 and an unknown first dimension, so requests can be concatenated along it.
   */
  public boolean batchable(String key) {
    // Asked on every request: the answer never changes for a loaded version, so it is kept.
    return batchable.computeIfAbsent(key, this::hasBatchDimension);
  }

  private boolean hasBatchDimension(String key) {
    SignatureInfo sig = signatures.get(key);
    if (sig == null || sig.inputs().isEmpty() || sig.outputs().isEmpty()) {
      return false;
    }
    for (Map<String, TensorInfo> infos : List.of(sig.inputs(), sig.outputs())) {
      for (TensorInfo t : infos.values()) {
        if (t.unknownRank() || t.shape().length == 0 || t.shape()[0] != -1) {
          return false;
        }
      }
    }
    for (TensorInfo t : sig.inputs().values()) {
      Shape graph = placeholderShapes.get(t.name());
      if (graph != null && !graph.isUnknown() && (graph.numDimensions() == 0 || graph.size(0) != -1)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Classify or regress: the examples (with context features merged in) are serialized as
   * {@code tf.Example} protos and fed to the signature's one string input.
   */
  public Map<String, Tensor> runExamples(String key, ExampleMethod method, List<Map<String, Feature>> examples,
      Map<String, Feature> context) {
    SignatureInfo sig = signature(key);
    if (!sig.methodName().equals(method.signatureMethod())) {
      String api = method == ExampleMethod.CLASSIFY ? "classification" : "regression";
      throw new InferenceException(ErrorCode.INVALID_INPUT, "Expected " + api + " signature method_name to be "
          + method.signatureMethod() + ". Was: " + sig.methodName());
    }
    if (sig.inputs().size() != 1) {
      throw new InferenceException(ErrorCode.INVALID_INPUT,
          "signature '" + key + "' must have exactly one input for " + method + ", has " + sig.inputs().keySet());
    }
    TensorInfo input = sig.inputs().values().iterator().next();
    if (!input.dtype().equals(DType.STRING.tfName())) {
      throw new InferenceException(ErrorCode.INVALID_INPUT, "signature '" + key + "' input '"
          + sig.inputs().keySet().iterator().next() + "' is " + input.dtype() + ", not serialized tf.Example (DT_STRING)");
    }
    if (examples.isEmpty()) {
      throw new InferenceException(ErrorCode.INVALID_INPUT, "Input is empty");
    }
    List<byte[]> serialized = ExampleEncoder.serialize(examples, context);
    Map<String, Tensor> feeds = new LinkedHashMap<>();
    feeds.put(input.name(), Tensor.ofStrings(new long[] {serialized.size()}, serialized));
    return execute(sig, feeds);
  }

  private Map<String, Tensor> bindInputs(String key, SignatureInfo sig, Map<String, Tensor> inputs) {
    if (inputs.size() == 1 && inputs.containsKey(SOLE_INPUT)) {
      if (sig.inputs().size() != 1) {
        throw new InferenceException(ErrorCode.INVALID_INPUT, "signature '" + key + "' has inputs "
            + new TreeMap<>(sig.inputs()).keySet() + ": name each input (an object per instance, or \"inputs\" as an object)");
      }
      return Map.of(sig.inputs().keySet().iterator().next(), inputs.get(SOLE_INPUT));
    }
    for (String name : inputs.keySet()) {
      if (!sig.inputs().containsKey(name)) {
        throw new InferenceException(ErrorCode.INVALID_INPUT, "input '" + name + "' is not in signature '" + key
            + "', which takes " + new TreeMap<>(sig.inputs()).keySet());
      }
    }
    for (String name : sig.inputs().keySet()) {
      if (!inputs.containsKey(name)) {
        throw new InferenceException(ErrorCode.INVALID_INPUT, "missing input '" + name + "' of signature '" + key
            + "', which takes " + new TreeMap<>(sig.inputs()).keySet());
      }
    }
    return inputs;
  }

  private Tensor checked(String alias, TensorInfo info, Tensor given) {
    DType expected = DType.fromTfName(info.dtype());
    if (expected == null) {
      throw new InferenceException(ErrorCode.INVALID_INPUT, "input '" + alias + "' has dtype " + info.dtype()
          + ", which this server does not serve");
    }
    Tensor t;
    try {
      t = InputCoercion.coerce(alias, given, expected);
    } catch (IllegalArgumentException e) {
      throw new InferenceException(ErrorCode.INVALID_INPUT, e.getMessage());
    }
    Shape expectedShape = placeholderShapes.get(info.name());
    if (expectedShape != null && !compatible(expectedShape, t.shape())) {
      throw new InferenceException(ErrorCode.INVALID_INPUT, "input '" + alias + "' expects shape "
          + describe(expectedShape) + " but got " + Arrays.toString(t.shape()));
    }
    return t;
  }

  private static boolean compatible(Shape expected, long[] given) {
    if (expected.numDimensions() != given.length) {
      return false;
    }
    for (int i = 0; i < given.length; i++) {
      long d = expected.get(i);
      if (d >= 0 && d != given[i]) {
        return false;
      }
    }
    return true;
  }

  private static String describe(Shape s) {
    return Arrays.toString(s.asArray());
  }

  private Map<String, Tensor> execute(SignatureInfo sig, Map<String, Tensor> feeds) {
    List<org.tensorflow.Tensor> tfInputs = new ArrayList<>(feeds.size());
    try {
      Session.Runner runner = bundle.session().runner();
      for (Map.Entry<String, Tensor> e : feeds.entrySet()) {
        org.tensorflow.Tensor t = TensorBridge.toTf(e.getValue());
        tfInputs.add(t);
        runner.feed(e.getKey(), t);
      }
      List<String> aliases = new ArrayList<>(new TreeMap<>(sig.outputs()).keySet());
      for (String alias : aliases) {
        runner.fetch(sig.outputs().get(alias).name());
      }
      try (Result result = runner.run()) {
        Map<String, Tensor> outputs = new LinkedHashMap<>();
        for (int i = 0; i < aliases.size(); i++) {
          outputs.put(aliases.get(i), TensorBridge.fromTf(result.get(i)));
        }
        return outputs;
      }
    } catch (TFInvalidArgumentException e) {
      throw new InferenceException(ErrorCode.INVALID_INPUT, firstLine(e.getMessage()), e);
    } catch (TensorFlowException | IllegalArgumentException | IllegalStateException e) {
      throw new InferenceException(ErrorCode.INTERNAL, firstLine(e.getMessage()), e);
    } finally {
      for (org.tensorflow.Tensor t : tfInputs) {
        t.close();
      }
    }
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "TensorFlow error";
    }
    int nl = s.indexOf('\n');
    return (nl < 0 ? s : s.substring(0, nl)).trim();
  }

  /** Takes a reference for one run; false once the model is closed and freed. */
  public boolean acquire() {
    while (true) {
      int n = references.get();
      if (n == 0) {
        return false;
      }
      if (references.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /** Gives back a reference taken by {@link #acquire}. */
  public void release() {
    if (references.decrementAndGet() == 0) {
      free();
    }
  }

  /** The owner is done with this version: freed now if no run holds it, else after the last one. */
  @Override
  public void close() {
    if (ownerClosed.compareAndSet(false, true)) {
      release();
    }
  }

  /** True once the session and its native memory have been released. */
  public boolean isFreed() {
    return freed.isDone();
  }

  /** Completes with the version once the session and its native memory have been released. */
  public CompletableFuture<Long> whenFreed() {
    return freed.copy();
  }

  private void free() {
    bundle.close();
    freed.complete(version);
    if (scratchCopy != null) {
      deleteRecursively(scratchCopy);
    }
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // a leftover temp folder is harmless
    }
  }
}
