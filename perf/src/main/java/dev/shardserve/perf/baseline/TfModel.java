package dev.shardserve.perf.baseline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.types.TFloat32;

/**
 * A SavedModel run the plain TensorFlow Java way, for the baselines: the latest version of a
 * model folder, its {@code serving_default} signature with one float input and one float output,
 * a float array in and a float array out. Deliberately none of shardserve's runtime code.
 */
final class TfModel implements AutoCloseable {
  /** How the baselines configure TensorFlow's threads. */
  enum Threads {
    /** shardserve's default (DESIGN.md): ops on the calling thread, parallelism from the callers. */
    CALLING_THREAD,
    /** TensorFlow's defaults: its own intra- and inter-op pools, one thread per core each. */
    DEFAULT;

    ConfigProto proto() {
      ConfigProto.Builder b = ConfigProto.newBuilder().setAllowSoftPlacement(true);
      if (this == CALLING_THREAD) {
        b.setIntraOpParallelismThreads(1).setInterOpParallelismThreads(-1);
      }
      return b.build();
    }

    static Threads parse(String s) {
      return switch (s) {
        case "calling-thread" -> CALLING_THREAD;
        case "default" -> DEFAULT;
        default -> throw new IllegalArgumentException("--threads must be calling-thread or default, was '" + s + "'");
      };
    }
  }

  final String name;
  final Path versionDir;
  private final SavedModelBundle bundle;
  private final Session session;
  private final String input;
  private final String output;
  /** Elements of one row of the input: 0 for a vector input (one scalar per row). */
  final int rowWidth;

  TfModel(Path modelDir, Threads threads) throws IOException {
    this.name = modelDir.getFileName().toString();
    this.versionDir = latestVersion(modelDir);
    this.bundle = SavedModelBundle.loader(versionDir.toString()).withTags("serve").withConfigProto(threads.proto())
        .load();
    this.session = bundle.session();
    SignatureDef sig = bundle.metaGraphDef().getSignatureDefMap().get("serving_default");
    if (sig == null || sig.getInputsCount() != 1 || sig.getOutputsCount() != 1) {
      bundle.close();
      throw new IOException(versionDir + ": the baselines need a serving_default signature with one input and "
          + "one output");
    }
    TensorInfo in = sig.getInputsMap().values().iterator().next();
    this.input = in.getName();
    this.output = sig.getOutputsMap().values().iterator().next().getName();
    this.rowWidth = in.getTensorShape().getDimCount() < 2 ? 0 : (int) in.getTensorShape().getDim(1).getSize();
  }

  static Path latestVersion(Path modelDir) throws IOException {
    try (Stream<Path> s = Files.list(modelDir)) {
      return s.filter(p -> p.getFileName().toString().matches("\\d+") && Files.isDirectory(p))
          .max((a, b) -> Long.compare(Long.parseLong(a.getFileName().toString()),
              Long.parseLong(b.getFileName().toString())))
          .orElseThrow(() -> new IOException("no numeric version folder in " + modelDir));
    }
  }

  /** Runs {@code rows} rows ({@code values.length == rows * max(1, rowWidth)}); returns the output and its shape. */
  Output run(float[] values, int rows) {
    Shape shape = rowWidth == 0 ? Shape.of(rows) : Shape.of(rows, rowWidth);
    try (TFloat32 x = TFloat32.tensorOf(shape, DataBuffers.of(values, true, false));
        Result r = session.runner().feed(input, x).fetch(output).run()) {
      TFloat32 y = (TFloat32) r.get(0);
      float[] out = new float[(int) y.size()];
      y.asRawTensor().data().asFloats().read(out);
      return new Output(out, y.shape().asArray());
    }
  }

  record Output(float[] values, long[] shape) {}

  @Override
  public void close() {
    bundle.close();
  }

  static Map<String, String> args(String[] argv) {
    Map<String, String> m = new java.util.HashMap<>();
    for (int i = 0; i + 1 < argv.length; i += 2) {
      if (!argv[i].startsWith("--")) {
        throw new IllegalArgumentException("expected --name value pairs, got '" + argv[i] + "'");
      }
      m.put(argv[i].substring(2), argv[i + 1]);
    }
    return m;
  }
}
