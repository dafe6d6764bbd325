package dev.shardserve.gateway.grpc;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.shardserve.gateway.security.AccessPolicy;
import dev.shardserve.gateway.security.Decision;
import dev.shardserve.gateway.security.Principal;
import dev.shardserve.protocol.ErrorCode;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Authentication and scopes on the gRPC port, the same {@link AccessPolicy} as the HTTP listeners:
 * the call's method and its {@code authorization} / {@code x-api-key} metadata are checked before
 * a message is read (UNAUTHENTICATED, PERMISSION_DENIED; {@code grpc.health.v1.Health} stays
 * open); for a credential restricted to some models, every model the request names (TF Serving's
 * {@code model_spec.name}, each task of a MultiInference, KServe's {@code model_name} or
 * {@code name}) is checked when the message arrives, before any service sees it. A restricted
 * credential may call only methods that name a model, and the server-level ones (KServe's
 * ServerLive/ServerReady/ServerMetadata, reflection). The policy is read per call: a reloaded key
 * file applies to the next call.
 */
final class GrpcAccess implements ServerInterceptor {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<String> API_KEY = Metadata.Key.of("x-api-key", Metadata.ASCII_STRING_MARSHALLER);
  private static final List<String> SERVER_LEVEL = List.of("inference.GRPCInferenceService/ServerLive",
      "inference.GRPCInferenceService/ServerReady", "inference.GRPCInferenceService/ServerMetadata");

  private final Supplier<AccessPolicy> policy;

  GrpcAccess(Supplier<AccessPolicy> policy) {
    this.policy = policy;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    AccessPolicy access = policy.get();
    if (!access.enabled()) {
      return next.startCall(call, headers);
    }
    String method = call.getMethodDescriptor().getFullMethodName();
    Decision d = access.checkGrpc(method, name -> Optional.ofNullable(headers.get(
        name.equals("authorization") ? AUTHORIZATION : name.equals("x-api-key") ? API_KEY
            : Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER))));
    if (d instanceof Decision.Denied denied) {
      close(call, denied);
      return new ServerCall.Listener<>() {};
    }
    Principal principal = ((Decision.Allowed) d).principal();
    if (principal == null || !principal.restrictedToModels() || method.startsWith("grpc.reflection.")
        || SERVER_LEVEL.contains(method)) {
      return next.startCall(call, headers);
    }
    return new ModelCheck<>(next.startCall(call, headers), call, access, principal, method);
  }

  private static void close(ServerCall<?, ?> call, Decision.Denied denied) {
    StatusRuntimeException e = GrpcErrors.of(denied.unauthenticated() ? ErrorCode.UNAUTHENTICATED
        : ErrorCode.PERMISSION_DENIED, denied.message());
    call.close(e.getStatus(), e.getTrailers() != null ? e.getTrailers() : new Metadata());
  }

  /** Checks the models a request names before the service sees the message; after a refusal, nothing more reaches it. */
  private static final class ModelCheck<Q> extends ForwardingServerCallListener.SimpleForwardingServerCallListener<Q> {
    private final ServerCall<Q, ?> call;
    private final AccessPolicy access;
    private final Principal principal;
    private final String method;
    private boolean refused;

    ModelCheck(ServerCall.Listener<Q> delegate, ServerCall<Q, ?> call, AccessPolicy access, Principal principal,
        String method) {
      super(delegate);
      this.call = call;
      this.access = access;
      this.principal = principal;
      this.method = method;
    }

    @Override
    public void onMessage(Q message) {
      if (refused) {
        return;
      }
      if (access.checkModels(principal, models(message), "gRPC " + method) instanceof Decision.Denied denied) {
        refused = true;
        close(call, denied);
        return;
      }
      super.onMessage(message);
    }

    @Override
    public void onHalfClose() {
      if (!refused) {
        super.onHalfClose();
      }
    }

    @Override
    public void onReady() {
      if (!refused) {
        super.onReady();
      }
    }
  }

  /** The model names a request message holds (none for a message that names no model). */
  static List<String> models(Object message) {
    List<String> out = new ArrayList<>();
    if (message instanceof Message m) {
      collect(m, out);
    }
    return out;
  }

  private static void collect(Message m, List<String> out) {
    Descriptor d = m.getDescriptorForType();
    FieldDescriptor spec = d.findFieldByName("model_spec");
    if (spec != null && spec.getType() == FieldDescriptor.Type.MESSAGE && !spec.isRepeated() && m.hasField(spec)) {
      Message s = (Message) m.getField(spec);
      FieldDescriptor name = s.getDescriptorForType().findFieldByName("name");
      if (name != null && name.getType() == FieldDescriptor.Type.STRING) {
        out.add((String) s.getField(name));
      }
    }
    FieldDescriptor tasks = d.findFieldByName("tasks");
    if (tasks != null && tasks.isRepeated() && tasks.getType() == FieldDescriptor.Type.MESSAGE) {
      for (int i = 0; i < m.getRepeatedFieldCount(tasks); i++) {
        collect((Message) m.getRepeatedField(tasks, i), out);
      }
    }
    if (d.getFile().getPackage().equals("inference")) {
      for (String field : List.of("model_name", "name")) {
        FieldDescriptor f = d.findFieldByName(field);
        if (f != null && f.getType() == FieldDescriptor.Type.STRING && !f.isRepeated()) {
          out.add((String) m.getField(f));
          return;
        }
      }
    }
  }
}
