package dev.shardserve.perf;

import com.google.protobuf.ByteString;
import dev.shardserve.gateway.proto.kserve.GRPCInferenceServiceGrpc;
import dev.shardserve.gateway.proto.kserve.ModelInferRequest;
import dev.shardserve.gateway.proto.tfserving.ModelSpec;
import dev.shardserve.gateway.proto.tfserving.PredictRequest;
import dev.shardserve.gateway.proto.tfserving.PredictionServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiConsumer;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * A closed-loop gRPC load generator that leaves the cores to the server: grpc-java's async stub on
 * one channel whose Netty event loop is its only thread (callbacks run on it directly), so N
 * clients are N calls in flight, each sending its next call from the previous one's callback. The
 * request message is built once. Answers count as status 200 when OK and 1000 + the gRPC code
 * otherwise, with latencies and the window as {@link LoadGenerator}'s.
 */
final class GrpcLoad {
  enum Api {
    /** TF Serving's PredictionService.Predict, the input in tensor_content. */
    PREDICT_TENSOR_CONTENT("gRPC Predict, tensor_content"),
    /** KServe's GRPCInferenceService.ModelInfer, the input in raw_input_contents. */
    MODEL_INFER_RAW("KServe gRPC ModelInfer, raw contents");

    final String label;

    Api(String label) {
      this.label = label;
    }
  }

  private GrpcLoad() {}

  /**
   * Runs in its own JVM (the product jar and the perf jar on its classpath; the perf jar alone
   * has no gRPC): {@code API PORT MODEL INPUT ROWS WIDTH CLIENTS WARMUP SECONDS}. Prints
   * {@code window opened}, {@code window closed} (the caller samples the server's CPU then) and one
   * result line: {@code result sent STATUS=COUNT,... OK_HISTOGRAM REFUSED_HISTOGRAM} (base64).
   */
  public static void main(String[] a) throws Exception {
    LoadResult r = closed(Api.valueOf(a[0]), Integer.parseInt(a[1]), a[2], a[3], Integer.parseInt(a[4]),
        Integer.parseInt(a[5]), Integer.parseInt(a[6]), Double.parseDouble(a[7]), Double.parseDouble(a[8]),
        new LoadGenerator.Window() {
          @Override
          public void opened() {
            System.out.println("window opened");
            System.out.flush();
          }

          @Override
          public void closed() {
            System.out.println("window closed");
            System.out.flush();
          }
        });
    StringBuilder statuses = new StringBuilder();
    r.byStatus().forEach((k, v) -> statuses.append(statuses.length() == 0 ? "" : ",").append(k).append('=').append(v));
    System.out.println("result " + r.sent() + " " + (statuses.length() == 0 ? "-" : statuses) + " "
        + GrpcLoadLine.encode(r.ok()) + " " + GrpcLoadLine.encode(r.refused()));
    System.out.flush();
    System.exit(0);
  }

  /** {@code rows} rows of {@code width} fixed pseudo-random floats, little-endian. */
  static ByteString rows(int rows, int width, long seed) {
    Random r = new Random(seed);
    ByteBuffer b = ByteBuffer.allocate(rows * width * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < rows * width; i++) {
      b.putFloat(r.nextFloat());
    }
    return ByteString.copyFrom(b.array());
  }

  static LoadResult closed(Api api, int port, String model, String input, int rows, int width, int clients,
      double warmupSeconds, double seconds, LoadGenerator.Window window) throws InterruptedException {
    NioEventLoopGroup loop = new NioEventLoopGroup(1);
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().directExecutor()
        .eventLoopGroup(loop).channelType(NioSocketChannel.class).maxInboundMessageSize(64 << 20).build();
    try {
      ByteString data = rows(rows, width, 7);
      BiConsumer<Long, StreamObserver<Object>> send = sender(api, channel, model, input, rows, width, data);
      firstAnswer(send);
      long start = System.nanoTime();
      long measureFrom = start + (long) (warmupSeconds * 1e9);
      long end = measureFrom + (long) (seconds * 1e9);
      Tally tally = new Tally();
      CountDownLatch done = new CountDownLatch(clients);
      for (int c = 0; c < clients; c++) {
        new Client(send, tally, measureFrom, end, done).next();
      }
      LockSupport.parkNanos(Math.max(0, measureFrom - System.nanoTime()));
      window.opened();
      LockSupport.parkNanos(Math.max(0, end - System.nanoTime()));
      window.closed();
      done.await(60, TimeUnit.SECONDS);
      synchronized (tally) {
        return tally.toResult(api.label, seconds);
      }
    } finally {
      channel.shutdownNow();
      channel.awaitTermination(10, TimeUnit.SECONDS);
      loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }

  /**
   * One call answered before the clock starts (bounded by 60 s): the channel is connected and
   * HTTP/2 negotiated, this JVM's gRPC classes are loaded, so a short window measures calls, not
   * the set-up (the smoke suite's one-second window saw no answer at all on a busy machine).
   */
  private static void firstAnswer(BiConsumer<Long, StreamObserver<Object>> send) throws InterruptedException {
    long until = System.nanoTime() + 60_000_000_000L;
    while (System.nanoTime() < until) {
      CountDownLatch answered = new CountDownLatch(1);
      boolean[] ok = new boolean[1];
      send.accept(0L, new StreamObserver<>() {
        @Override
        public void onNext(Object value) {
          ok[0] = true;
        }

        @Override
        public void onError(Throwable t) {
          answered.countDown();
        }

        @Override
        public void onCompleted() {
          answered.countDown();
        }
      });
      answered.await(30, TimeUnit.SECONDS);
      if (ok[0]) {
        return;
      }
      LockSupport.parkNanos(50_000_000L); // not ready yet: ask again shortly
    }
    throw new IllegalStateException("no gRPC call was answered OK within 60 s");
  }

  @SuppressWarnings("unchecked")
  private static BiConsumer<Long, StreamObserver<Object>> sender(Api api, ManagedChannel channel, String model,
      String input, int rows, int width, ByteString data) {
    if (api == Api.PREDICT_TENSOR_CONTENT) {
      PredictRequest request = PredictRequest.newBuilder().setModelSpec(ModelSpec.newBuilder().setName(model))
          .putInputs(input, TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
              .setTensorShape(TensorShapeProto.newBuilder()
                  .addDim(TensorShapeProto.Dim.newBuilder().setSize(rows))
                  .addDim(TensorShapeProto.Dim.newBuilder().setSize(width)))
              .setTensorContent(data).build())
          .build();
      PredictionServiceGrpc.PredictionServiceStub stub = PredictionServiceGrpc.newStub(channel);
      return (deadlineNanos, observer) -> stub.withDeadlineAfter(30, TimeUnit.SECONDS)
          .predict(request, (StreamObserver) observer);
    }
    ModelInferRequest request = ModelInferRequest.newBuilder().setModelName(model)
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName(input).setDatatype("FP32")
            .addShape(rows).addShape(width))
        .addRawInputContents(data).build();
    GRPCInferenceServiceGrpc.GRPCInferenceServiceStub stub = GRPCInferenceServiceGrpc.newStub(channel);
    return (deadlineNanos, observer) -> stub.withDeadlineAfter(30, TimeUnit.SECONDS)
        .modelInfer(request, (StreamObserver) observer);
  }

  /** One closed-loop client: one call in flight, the next sent from the last one's callback. */
  private static final class Client implements StreamObserver<Object> {
    final BiConsumer<Long, StreamObserver<Object>> send;
    final Tally tally;
    final long measureFrom;
    final long end;
    final CountDownLatch done;
    long sentAt;
    int status;

    Client(BiConsumer<Long, StreamObserver<Object>> send, Tally tally, long measureFrom, long end,
        CountDownLatch done) {
      this.send = send;
      this.tally = tally;
      this.measureFrom = measureFrom;
      this.end = end;
      this.done = done;
    }

    void next() {
      sentAt = System.nanoTime();
      if (sentAt - end >= 0) {
        done.countDown();
        return;
      }
      if (sentAt - measureFrom >= 0) {
        synchronized (tally) {
          tally.sent++;
        }
      }
      status = 200;
      send.accept(end, this);
    }

    @Override
    public void onNext(Object value) {}

    @Override
    public void onError(Throwable t) {
      status = 1000 + Status.fromThrowable(t).getCode().value();
      finish();
    }

    @Override
    public void onCompleted() {
      finish();
    }

    private void finish() {
      long now = System.nanoTime();
      if (now - measureFrom >= 0 && now - end <= 0) {
        long micros = (now - sentAt) / 1000;
        synchronized (tally) {
          tally.record(status, micros, micros);
        }
      }
      next();
    }
  }
}
