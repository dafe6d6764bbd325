package dev.shardserve.gateway.grpc;

import dev.shardserve.concurrent.Ticker;
import dev.shardserve.dataplane.InferCall;
import dev.shardserve.metrics.Api;
import dev.shardserve.metrics.ModelMetrics;
import dev.shardserve.metrics.Protocol;
import dev.shardserve.metrics.RefusalReason;
import dev.shardserve.metrics.ShardServeMetrics;
import dev.shardserve.gateway.GatewaySettings;
import dev.shardserve.gateway.admission.Admission;
import dev.shardserve.gateway.routing.ModelRouter;
import dev.shardserve.gateway.routing.RoutingSnapshot;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelName;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.InferResult;
import dev.shardserve.protocol.VersionSelector;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One gRPC inference call on the data plane, the steps the REST API takes: the model's route from
 * the routing snapshot (one volatile read), the deadline (the call's gRPC deadline, else the
 * model's request timeout, else the gateway's default; never above max-deadline), an admission
 * permit, the request decoded into an {@link InferCall}, a replica chosen, the call submitted, and
 * the answer encoded on the thread that completes it (a runtime thread for a local replica). Every
 * refusal is a {@link StatusRuntimeException} from {@link GrpcErrors}.
 */
final class GrpcInference {
  private static final Logger log = LoggerFactory.getLogger(GrpcInference.class);

  private final ModelRouter router;
  private final Admission admission;
  private final GatewaySettings gateway;
  private final Ticker ticker;
  private final ShardServeMetrics metrics;

  GrpcInference(ModelRouter router, Admission admission, GatewaySettings gateway, Ticker ticker) {
    this.router = router;
    this.admission = admission;
    this.gateway = gateway;
    this.ticker = ticker;
    this.metrics = ShardServeMetrics.get(router.system());
  }

  ModelRouter router() {
    return router;
  }

  GatewaySettings gateway() {
    return gateway;
  }

  /** A failure reply of a replica, carried to the permit and the status. */
  static final class FailedCall extends RuntimeException {
    final ErrorCode code;

    FailedCall(Failure f) {
      super(f.message(), null, false, false);
      this.code = f.code();
    }
  }

  /**
   * Runs one call for {@code model}: {@code call} builds it (decoding the request; it may throw a
   * StatusRuntimeException) from the deadline in this JVM's ticker, {@code encode} turns the result
   * into the response on the completing thread. Must be called on the handler's thread (it reads
   * the gRPC deadline from the current {@link Context}).
   */
  <R> CompletableFuture<R> run(String model, Api api, LongFunction<InferCall> call, Function<InferResult, R> encode) {
    long arrivedNanos = ticker.nanos();
    RoutingSnapshot snapshot = router.snapshot();
    RoutingSnapshot.Route route = snapshot.route(model);
    ModelMetrics m = route != null ? route.metrics() : metrics.unknownModel();
    long[] version = {ModelMetrics.NO_VERSION};
    return counted(m, api, arrivedNanos, version, run(model, snapshot, route, m, arrivedNanos, call, r -> {
      version[0] = r.version();
      return encode.apply(r);
    }));
  }

  /** Counts and times the call when it closes, with its gRPC status code. */
  private <R> CompletableFuture<R> counted(ModelMetrics m, Api api, long arrivedNanos, long[] version,
      CompletableFuture<R> result) {
    return result.whenComplete((r, e) -> m.requestAnswered(Protocol.GRPC, api,
        e == null ? 0 : status(e).getStatus().getCode().value(), version[0], ticker.nanos() - arrivedNanos));
  }

  private <R> CompletableFuture<R> run(String model, RoutingSnapshot snapshot, RoutingSnapshot.Route route,
      ModelMetrics m, long arrivedNanos, LongFunction<InferCall> call, Function<InferResult, R> encode) {
    try {
      requireModelName(model);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    Failure unroutable = router.unroutable(snapshot, model, "Servable not found for request: Latest(" + model + ")");
    if (unroutable != null) {
      if (unroutable.code() == ErrorCode.MODEL_NOT_READY) {
        m.refused(RefusalReason.UNAVAILABLE);
      }
      return CompletableFuture.failedFuture(GrpcErrors.of(unroutable.code(), unroutable.message()));
    }
    long deadlineNanos;
    try {
      deadlineNanos = arrivedNanos + timeoutNanos(route);
    } catch (RuntimeException e) {
      m.refused(RefusalReason.DEADLINE);
      return CompletableFuture.failedFuture(e);
    }
    Optional<Admission.Permit> admitted = admission.tryAcquire(model, route.replicas());
    if (admitted.isEmpty()) {
      m.refused(RefusalReason.ADMISSION);
      return CompletableFuture.failedFuture(GrpcErrors.of(ErrorCode.OVERLOADED, model
          + " is at its concurrency limit of " + admission.limit(model) + " requests in flight; retry later"));
    }
    Admission.Permit permit = admitted.get();
    InferCall built;
    try {
      built = call.apply(deadlineNanos);
    } catch (RuntimeException e) {
      permit.ignore();
      return CompletableFuture.failedFuture(e);
    }
    m.inflightIncrement();
    ModelRouter.Target target = router.target(route);
    CompletableFuture<R> out = router.infer(route, target, built, reply -> {
      if (reply instanceof InferResult r) {
        return encode.apply(r);
      }
      throw new FailedCall((Failure) reply);
    });
    return out.whenComplete((r, e) -> {
      m.inflightDecrement();
      if (e == null) {
        permit.success();
      } else if (unwrap(e) instanceof FailedCall f && GrpcErrors.dropped(f.code)) {
        permit.dropped();
      } else {
        permit.ignore();
      }
      m.admissionLimit(admission.limit(model));
    });
  }

  /** The call's time budget in nanoseconds. */
  private long timeoutNanos(RoutingSnapshot.Route route) {
    long max = gateway.maxDeadline().toNanos();
    Deadline deadline = Context.current().getDeadline();
    if (deadline != null) {
      long left = deadline.timeRemaining(TimeUnit.NANOSECONDS);
      if (left <= 0) {
        throw GrpcErrors.of(ErrorCode.DEADLINE_EXCEEDED, "the call's deadline had passed when it arrived");
      }
      return Math.min(left, max);
    }
    return route.requestTimeoutMillis() > 0 ? Math.min(route.requestTimeoutMillis() * 1_000_000L, max)
        : gateway.defaultDeadline().toNanos();
  }

  static void requireModelName(String model) {
    if (model.isEmpty()) {
      throw GrpcErrors.invalid("no model name: set model_spec.name (or model_name, name)");
    }
    if (!ModelName.isValid(model)) {
      throw GrpcErrors.invalid("invalid model name '" + model
          + "': model names match [A-Za-z0-9_.-]{1,128} and are not '.' or '..'");
    }
  }

  /** A version number, a label or neither; a label that is not {@code [a-zA-Z0-9_]+} is refused. */
  static VersionSelector selector(Long version, String label) {
    if (version != null) {
      if (version < 0) {
        throw GrpcErrors.invalid("version must be >= 0, was " + version);
      }
      return new VersionSelector.Specific(version);
    }
    if (label != null && !label.isEmpty()) {
      try {
        return new VersionSelector.Label(label);
      } catch (IllegalArgumentException e) {
        throw GrpcErrors.invalid(e.getMessage());
      }
    }
    return VersionSelector.latest();
  }

  /** Sends {@code result}'s value or error to {@code observer}; a call the client cancelled is let go. */
  static <R> void respond(CompletableFuture<R> result, StreamObserver<R> observer) {
    result.whenComplete((value, error) -> {
      try {
        if (error == null) {
          observer.onNext(value);
          observer.onCompleted();
        } else {
          observer.onError(status(error));
        }
      } catch (IllegalStateException | StatusRuntimeException e) {
        // the call was cancelled or already closed (client gone, deadline passed): nothing to send
      }
    });
  }

  /** Runs {@code handler} and sends its answer; a StatusRuntimeException it throws ends the call. */
  static <R> void handle(StreamObserver<R> observer, java.util.function.Supplier<CompletableFuture<R>> handler) {
    CompletableFuture<R> result;
    try {
      result = handler.get();
    } catch (RuntimeException e) {
      result = CompletableFuture.failedFuture(e);
    }
    respond(result, observer);
  }

  static Throwable unwrap(Throwable e) {
    while (e instanceof CompletionException && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }

  /** The status a failed call ends with. */
  static StatusRuntimeException status(Throwable error) {
    Throwable e = unwrap(error);
    if (e instanceof StatusRuntimeException s) {
      return s;
    }
    if (e instanceof StatusException s) {
      return new StatusRuntimeException(s.getStatus(), s.getTrailers());
    }
    if (e instanceof FailedCall f) {
      return GrpcErrors.of(f.code, f.getMessage());
    }
    log.warn("gRPC call failed: {}", e.toString());
    return Status.INTERNAL.withDescription("internal error: " + e.getMessage()).asRuntimeException();
  }
}
