package dev.shardserve.node.runtime;

import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * A version served by a simulated accelerator ({@link SimulatedSpec}, from {@code simulated.json}):
 * each output is a copy of the input it names, and the batch ends after
 * {@code batch_latency_us + rows × row_latency_us} on its {@link SimulatedDevice}, which runs
 * {@code concurrency} batches at once. The runtime thread that takes a batch copies its rows into
 * the output tensors (as TensorFlow would read them back) and hands the batch to the device: it is
 * free again at once, and the requests are answered on a runtime thread when the device's timer
 * ends the batch. Rows counted for the time are the padded rows, as a device computes them.
 */
final class SimulatedBackend implements ModelBackend {
  private final SimulatedSpec spec;
  private final SimulatedDevice device;
  /** For each output in ascending alias order, the input it copies. */
  private final String[] sources;

  SimulatedBackend(SimulatedSpec spec, Simulator simulator) {
    this.spec = spec;
    this.device = new SimulatedDevice(spec.concurrency(), simulator);
    this.sources = spec.outputs().values().toArray(new String[0]); // outputs is sorted by alias
  }

  SimulatedDevice device() {
    return device;
  }

  @Override
  public void start(PreparedSignature sig, List<? extends RowSource> parts, int paddedRows, boolean alone,
      BatchCompletion done) {
    Tensor[] out = new Tensor[sources.length];
    int rows = alone ? firstDimension(parts.get(0).inputs().get(sources[0])) : paddedRows;
    for (int i = 0; i < sources.length; i++) {
      out[i] = alone ? parts.get(0).inputs().get(sources[i]) : rowsOf(sources[i], parts, paddedRows);
    }
    device.submit(spec.batchNanos(rows), () -> done.completed(out, null));
  }

  @Override
  public Tensor[] run(PreparedSignature sig, List<? extends RowSource> parts, int paddedRows, boolean alone) {
    CompletableFuture<Tensor[]> result = new CompletableFuture<>();
    start(sig, parts, paddedRows, alone, (out, failure) -> {
      if (failure != null) {
        result.completeExceptionally(failure);
      } else {
        result.complete(out);
      }
    });
    try {
      return result.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InferenceException(ErrorCode.INTERNAL, "interrupted while the simulated device ran a batch", e);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof InferenceException ie ? ie
          : new InferenceException(ErrorCode.INTERNAL, String.valueOf(e.getCause()), e.getCause());
    }
  }

  private static int firstDimension(Tensor t) {
    return t.rank() == 0 ? 1 : (int) Math.max(1, t.shape()[0]);
  }

  /** The rows of every part's {@code input}, in order, the last row repeated up to {@code paddedRows}. */
  static Tensor rowsOf(String input, List<? extends RowSource> parts, int paddedRows) {
    Tensor first = parts.get(0).inputs().get(input);
    long[] shape = first.shape().clone();
    long perRow = Tensor.elementCount(Arrays.copyOfRange(shape, 1, shape.length));
    int rows = 0;
    for (RowSource p : parts) {
      rows += p.rows();
    }
    int total = Math.max(rows, paddedRows);
    shape[0] = total;
    if (first.dtype().isString()) {
      List<byte[]> all = new ArrayList<>((int) (total * perRow));
      for (RowSource p : parts) {
        List<byte[]> s = p.inputs().get(input).strings();
        all.addAll(s.subList((int) (p.fromRow() * perRow), (int) ((p.fromRow() + p.rows()) * perRow)));
      }
      List<byte[]> last = all.subList((int) ((rows - 1) * perRow), (int) (rows * perRow));
      List<byte[]> lastCopy = new ArrayList<>(last);
      for (int r = rows; r < total; r++) {
        all.addAll(lastCopy);
      }
      return Tensor.ofStrings(shape, all);
    }
    int rowBytes = (int) (perRow * first.dtype().byteSize());
    byte[] data = new byte[total * rowBytes];
    int at = 0;
    for (RowSource p : parts) {
      byte[] src = p.inputs().get(input).data();
      int n = p.rows() * rowBytes;
      System.arraycopy(src, p.fromRow() * rowBytes, data, at, n);
      at += n;
    }
    for (int r = rows; r < total; r++) {
      System.arraycopy(data, (rows - 1) * rowBytes, data, r * rowBytes, rowBytes);
    }
    return Tensor.of(first.dtype(), shape, data);
  }

  @Override
  public int maxBatchSize() {
    return spec.maxBatchSize();
  }

  @Override
  public int maxBatchesInFlight() {
    return spec.concurrency();
  }

  @Override
  public String kind() {
    return "simulated";
  }

  @Override
  public void free() {
    // a simulated device holds no native memory; batches in flight have ended (the model counts them)
  }
}
