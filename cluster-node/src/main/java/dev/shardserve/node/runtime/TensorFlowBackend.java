package dev.shardserve.node.runtime;

import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.exceptions.TFInvalidArgumentException;
import org.tensorflow.exceptions.TensorFlowException;

/**
 * A SavedModel's TensorFlow session: runs a batch on the calling thread (a runtime thread), the
 * rows of every part written straight into one native tensor per input, each output read back in
 * one bulk copy. TensorFlow sessions accept concurrent runs.
 */
final class TensorFlowBackend implements ModelBackend {
  private final SavedModelBundle bundle;
  /** A copy of the version folder without signatures (see {@link SavedModelLoader}), deleted when freed; or null. */
  private final Path scratchCopy;

  TensorFlowBackend(SavedModelBundle bundle, Path scratchCopy) {
    this.bundle = bundle;
    this.scratchCopy = scratchCopy;
  }

  SavedModelBundle bundle() {
    return bundle;
  }

  @Override
  public void start(PreparedSignature sig, List<? extends RowSource> parts, int paddedRows, boolean alone,
      BatchCompletion done) {
    Tensor[] out;
    try {
      out = run(sig, parts, paddedRows, alone);
    } catch (InferenceException e) {
      done.completed(null, e);
      return;
    }
    done.completed(out, null);
  }

  @Override
  public Tensor[] run(PreparedSignature sig, List<? extends RowSource> parts, int paddedRows, boolean alone) {
    int n = sig.inputCount();
    List<org.tensorflow.Tensor> feeds = new ArrayList<>(n);
    try {
      Session.Runner runner = bundle.session().runner();
      for (int i = 0; i < n; i++) {
        org.tensorflow.Tensor t = alone ? TensorBridge.toTf(parts.get(0).inputs().get(sig.input(i)))
            : TensorBridge.rowsToTf(sig.input(i), parts, paddedRows);
        feeds.add(t);
        runner.feed(sig.feed(i), t);
      }
      for (int i = 0; i < sig.outputCount(); i++) {
        runner.fetch(sig.fetch(i));
      }
      try (Result result = runner.run()) {
        Tensor[] out = new Tensor[sig.outputCount()];
        for (int i = 0; i < out.length; i++) {
          out[i] = TensorBridge.fromTf(result.get(i));
        }
        return out;
      }
    } catch (TFInvalidArgumentException e) {
      throw new InferenceException(ErrorCode.INVALID_INPUT, firstLine(e.getMessage()), e);
    } catch (TensorFlowException | IllegalArgumentException | IllegalStateException e) {
      throw new InferenceException(ErrorCode.INTERNAL, firstLine(e.getMessage()), e);
    } finally {
      for (org.tensorflow.Tensor t : feeds) {
        t.close();
      }
    }
  }

  @Override
  public int maxBatchSize() {
    return Integer.MAX_VALUE;
  }

  @Override
  public int maxBatchesInFlight() {
    return Integer.MAX_VALUE;
  }

  @Override
  public String kind() {
    return "tensorflow";
  }

  @Override
  public void free() {
    bundle.close();
    if (scratchCopy != null) {
      SavedModelLoader.deleteRecursively(scratchCopy);
    }
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "TensorFlow error";
    }
    int nl = s.indexOf('\n');
    return (nl < 0 ? s : s.substring(0, nl)).trim();
  }
}
