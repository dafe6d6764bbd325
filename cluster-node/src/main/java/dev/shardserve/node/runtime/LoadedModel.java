package dev.shardserve.node.runtime;

import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.Feature;
import dev.shardserve.protocol.ModelProtocol.ExampleMethod;
import dev.shardserve.protocol.ModelProtocol.SignatureInfo;
import dev.shardserve.protocol.Outputs;
import dev.shardserve.protocol.Tensor;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.tensorflow.SavedModelBundle;

/**
 * One loaded version of a model: its {@link PreparedSignature}s and runs on them, computed by its
 * backend: a TensorFlow session, or a simulated accelerator ({@code simulated.json}, see
 * {@link SimulatedBackend}). Thread-safe. Holds native memory (or a device), released when the
 * owner has {@link #close closed} it <em>and</em> the last run that {@link #acquire acquired} it
 * has {@link #release released} it: a version retired while batches are in flight is closed after
 * they finish, never under them. Loaded by {@link SavedModelLoader}.
 */
public final class LoadedModel implements AutoCloseable {
  /** Key under which a request names the signature's only input ({@code "instances": [1, 2]}). */
  public static final String SOLE_INPUT = PreparedSignature.SOLE_INPUT;

  private final long version;
  private final ModelBackend backend;
  private final Map<String, SignatureInfo> signatures;
  private final Map<String, PreparedSignature> prepared;
  /** The owner's reference plus one per run in flight; the backend is freed when it reaches 0. */
  private final AtomicInteger references = new AtomicInteger(1);
  private final AtomicBoolean ownerClosed = new AtomicBoolean();
  private final CompletableFuture<Long> freed = new CompletableFuture<>();

  /** A TensorFlow version: its signatures prepared against the bundle's graph. */
  LoadedModel(long version, SavedModelBundle bundle, Map<String, SignatureInfo> signatures, Path scratchCopy) {
    this(version, new TensorFlowBackend(bundle, scratchCopy), signatures, preparedOn(bundle, signatures));
  }

  LoadedModel(long version, ModelBackend backend, Map<String, SignatureInfo> signatures,
      Map<String, PreparedSignature> prepared) {
    this.version = version;
    this.backend = backend;
    this.signatures = signatures;
    this.prepared = Map.copyOf(prepared);
  }

  private static Map<String, PreparedSignature> preparedOn(SavedModelBundle bundle,
      Map<String, SignatureInfo> signatures) {
    Map<String, PreparedSignature> p = new HashMap<>();
    for (Map.Entry<String, SignatureInfo> e : signatures.entrySet()) {
      p.put(e.getKey(), new PreparedSignature(e.getKey(), e.getValue(), bundle.graph()));
    }
    return p;
  }

  /** Loads {@code dir}: see {@link SavedModelLoader#load}. */
  public static LoadedModel load(Path dir, long version, SessionSettings session) {
    return SavedModelLoader.load(dir, version, session);
  }

  public long version() {
    return version;
  }

  /** What computes this version: {@code tensorflow} or {@code simulated}. */
  public String runtime() {
    return backend.kind();
  }

  /**
   * The most rows one batch of this version may have: the smaller of this and the model's
   * {@code max-batch-size} applies ({@link Integer#MAX_VALUE}: no limit of its own).
   */
  public int maxBatchSize() {
    return backend.maxBatchSize();
  }

  /**
   * The most batches of this version worth running at once: a simulated device's
   * {@code concurrency}; {@link Integer#MAX_VALUE} for TensorFlow (the runtime threads limit it).
   */
  public int maxBatchesInFlight() {
    return backend.maxBatchesInFlight();
  }

  public Map<String, SignatureInfo> signatures() {
    return signatures;
  }

  /** The signature, or {@link ErrorCode#SIGNATURE_NOT_FOUND} naming it. */
  public SignatureInfo signature(String key) {
    return prepared(key).info();
  }

  /** The prepared signature, or {@link ErrorCode#SIGNATURE_NOT_FOUND} naming it. */
  public PreparedSignature prepared(String key) {
    PreparedSignature sig = prepared.get(key);
    if (sig == null) {
      throw new InferenceException(ErrorCode.SIGNATURE_NOT_FOUND,
          "Serving signature name: \"" + key + "\" not found in signature def");
    }
    return sig;
  }

  /** The prepared signature, or null. */
  public PreparedSignature preparedOrNull(String key) {
    return prepared.get(key);
  }

  /**
   * Checks and runs signature {@code key} on {@code inputs} (keyed by alias, or
   * {@link #SOLE_INPUT}) as one request, returning the outputs by alias. For warm-up and tools;
   * requests go through the batcher and {@link #start}.
   */
  public Map<String, Tensor> run(String key, Map<String, Tensor> inputs) {
    PreparedSignature sig = prepared(key);
    Map<String, Tensor> bound = sig.bind(inputs);
    Tensor[] out = run(sig, List.of(new Whole(bound)), -1, true);
    return Outputs.ofSorted(sig.outputNames(), out).toMap();
  }

  private record Whole(Map<String, Tensor> inputs) implements RowSource {
    @Override
    public int fromRow() {
      return 0;
    }

    @Override
    public int rows() {
      return -1;
    }
  }

  /**
   * Runs a batch on the calling thread, waiting for its end: {@code alone} feeds the one part's
   * whole inputs as they are; otherwise the rows of every part are written into one tensor per
   * input, in order, and the last row is repeated up to {@code paddedRows}. Returns the outputs in
   * the signature's output order ({@link PreparedSignature#outputNames}). Throws
   * {@link InferenceException}: INVALID_INPUT when the model refused the inputs. Requests use
   * {@link #start}, which never waits for a simulated device.
   */
  public Tensor[] run(PreparedSignature sig, List<? extends RowSource> parts, int paddedRows, boolean alone) {
    return backend.run(sig, parts, paddedRows, alone);
  }

  /**
   * Runs a batch as {@link #run(PreparedSignature, List, int, boolean)} does, and hands the end to
   * {@code done} exactly once: TensorFlow computes on the calling thread and calls it before this
   * returns; a simulated accelerator returns at once and calls it on a runtime thread when the
   * device has finished (no thread waits meanwhile). The caller holds a reference
   * ({@link #acquire}) until {@code done} has run.
   */
  public void start(PreparedSignature sig, List<? extends RowSource> parts, int paddedRows, boolean alone,
      BatchCompletion done) {
    backend.start(sig, parts, paddedRows, alone, done);
  }

  /** Bytes the serialized examples of a classify or regress request take, about: each with the context merged in. */
  public static long expandedExamplesBytes(List<Map<String, Feature>> examples, Map<String, Feature> context) {
    long contextBytes = featuresBytes(context);
    long total = 0;
    for (Map<String, Feature> e : examples) {
      total += contextBytes + featuresBytes(e) + 8;
    }
    return total;
  }

  private static long featuresBytes(Map<String, Feature> features) {
    long n = 0;
    for (Map.Entry<String, Feature> e : features.entrySet()) {
      n += e.getKey().length() + 8;
      Feature f = e.getValue();
      if (f instanceof Feature.FloatList fl) {
        n += 4L * fl.values().length;
      } else if (f instanceof Feature.Int64List il) {
        n += 8L * il.values().length;
      } else if (f instanceof Feature.BytesList bl) {
        for (byte[] b : bl.values()) {
          n += b.length + 2;
        }
      }
    }
    return n;
  }

  /**
   * Classify or regress: the examples (with context features merged in) are serialized as
   * {@code tf.Example} protos and fed, as strings, to the tensor the signature's one input names,
   * whatever dtype the signature declares for it (TF Serving does the same: its own
   * {@code saved_model_half_plus_three} declares DT_FLOAT for a string placeholder).
   */
  public Map<String, Tensor> runExamples(String key, ExampleMethod method, List<Map<String, Feature>> examples,
      Map<String, Feature> context) {
    PreparedSignature sig = prepared(key);
    if (!(backend instanceof TensorFlowBackend)) {
      throw new InferenceException(ErrorCode.INVALID_INPUT, "a " + backend.kind() + " model serves predict only, not "
          + method);
    }
    if (!sig.methodName().equals(method.signatureMethod())) {
      String api = method == ExampleMethod.CLASSIFY ? "classification" : "regression";
      throw new InferenceException(ErrorCode.INVALID_INPUT, "Expected " + api + " signature method_name to be "
          + method.signatureMethod() + ". Was: " + sig.methodName());
    }
    if (sig.inputCount() != 1) {
      throw new InferenceException(ErrorCode.INVALID_INPUT,
          "signature '" + key + "' must have exactly one input for " + method + ", has " + sig.info().inputs().keySet());
    }
    if (examples.isEmpty()) {
      throw new InferenceException(ErrorCode.INVALID_INPUT, "Input is empty");
    }
    List<byte[]> serialized = ExampleEncoder.serialize(examples, context);
    Tensor strings = Tensor.ofStrings(new long[] {serialized.size()}, serialized);
    Map<String, Tensor> feed = Map.of(sig.input(0), strings);
    Tensor[] out = run(sig, List.of(new Whole(feed)), -1, true);
    return Outputs.ofSorted(sig.outputNames(), out).toMap();
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

  /** True once the owner closed it (it may still finish runs in flight). */
  public boolean isClosed() {
    return ownerClosed.get();
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
    try {
      backend.free();
    } finally {
      freed.complete(version);
    }
  }

}
