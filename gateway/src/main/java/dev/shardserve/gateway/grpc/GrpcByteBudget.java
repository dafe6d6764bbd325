package dev.shardserve.gateway.grpc;

import com.google.protobuf.MessageLite;
import dev.shardserve.gateway.admission.ByteBudget;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The gateway's byte budget ({@code shardserve.gateway.admission.max-bytes-in-flight}) for unary
 * gRPC calls, shared with the REST routes: a request message is charged its serialized size when
 * it arrives and released when the call ends, however it ends. Over the budget the call is refused
 * at once with UNAVAILABLE naming the budget (REST's 503), before any work: the message has been
 * read by then (gRPC's transport reads it, bounded by {@code --grpc-max-message-bytes}), but it is
 * dropped at once instead of being held while it waits for a replica. As on REST, a message alone
 * is admitted whatever its size. Streaming calls (reflection) are not charged.
 */
final class GrpcByteBudget implements ServerInterceptor {
  private final ByteBudget budget;

  GrpcByteBudget(ByteBudget budget) {
    this.budget = budget;
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
      ServerCallHandler<Q, A> next) {
    ServerCall.Listener<Q> delegate = next.startCall(call, headers);
    if (call.getMethodDescriptor().getType() != MethodDescriptor.MethodType.UNARY) {
      return delegate;
    }
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
      private ByteBudget.Permit permit;
      private boolean refused;

      @Override
      public void onMessage(Q message) {
        long size = message instanceof MessageLite m ? m.getSerializedSize() : 0;
        Optional<ByteBudget.Permit> p = budget.tryAcquire(OptionalLong.of(size), size);
        if (p.isEmpty()) {
          refused = true;
          call.close(Status.UNAVAILABLE.withDescription(budget.refusal(OptionalLong.of(size), size)), new Metadata());
          return;
        }
        permit = p.get();
        super.onMessage(message);
      }

      @Override
      public void onHalfClose() {
        if (!refused) {
          super.onHalfClose();
        }
      }

      @Override
      public void onCancel() {
        release();
        super.onCancel();
      }

      @Override
      public void onComplete() {
        release();
        super.onComplete();
      }

      private void release() {
        if (permit != null) {
          permit.release();
        }
      }
    };
  }
}
