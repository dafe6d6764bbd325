package dev.shardserve.gateway.security;

import java.util.Optional;
import java.util.function.Function;

/**
 * Decides whether a request may reach its route: a pure function of the listener, the path (or
 * gRPC method) and the credential headers. With authentication configured, every route needs a
 * scope except the open ones ({@code /v2/health/live}, {@code /v2/health/ready}, gRPC's
 * {@code grpc.health.v1.Health}); missing or invalid credentials are {@code UNAUTHENTICATED}
 * (401), a valid credential without the scope or the model is {@code PERMISSION_DENIED} (403).
 * Without authentication configured every request is allowed. Every refusal is counted and
 * logged (without the credential) by {@link AuthFailures}.
 */
public final class AccessPolicy {
  private final Authenticator authenticator;
  private final AuthFailures failures;

  AccessPolicy(Authenticator authenticator, AuthFailures failures) {
    this.authenticator = authenticator;
    this.failures = failures;
  }

  /** A policy that allows everything (no authentication configured). */
  public static AccessPolicy open(AuthFailures failures) {
    return new AccessPolicy(null, failures);
  }

  public boolean enabled() {
    return authenticator != null;
  }

  public AuthFailures failures() {
    return failures;
  }

  /**
   * The decision for an HTTP request. {@code header} looks a header up by its lower-case name.
   * The model is read from the path ({@code /v1/models/{m}}, {@code /v2/models/{m}}, ...).
   */
  public Decision check(Listener listener, String method, String path, Function<String, Optional<String>> header) {
    if (authenticator == null) {
      return Decision.OPEN;
    }
    RequestTarget target = RequestTarget.of(listener, path);
    if (target.scope() == null) {
      return Decision.OPEN;
    }
    Decision d = authenticator.authenticate(Credential.from(header));
    if (d instanceof Decision.Allowed a) {
      d = authorize(a.principal(), target);
    }
    return counted(d, method + " " + path);
  }

  /**
   * The decision for a gRPC call, before its message is read: {@code fullMethod} is
   * {@code package.Service/Method}, {@code metadata} looks a metadata key up by its lower-case name
   * ({@code authorization}, {@code x-api-key}). A service then checks the model named in the
   * message with {@link #checkModel}.
   */
  public Decision checkGrpc(String fullMethod, Function<String, Optional<String>> metadata) {
    if (authenticator == null || fullMethod.startsWith("grpc.health.v1.Health/")) {
      return Decision.OPEN;
    }
    Scope scope = grpcScope(fullMethod);
    Decision d = authenticator.authenticate(Credential.from(metadata));
    if (d instanceof Decision.Allowed a && !a.principal().has(scope)) {
      d = noScope(a.principal(), scope);
    }
    return counted(d, "gRPC " + fullMethod);
  }

  /** Whether an authenticated principal may reach {@code model} (null principal: authentication is off). */
  public Decision checkModel(Principal principal, String model, String where) {
    if (principal == null || principal.mayReach(model)) {
      return new Decision.Allowed(principal);
    }
    return counted(noModel(principal, model), where);
  }

  /**
   * Whether {@code principal} may reach every model of {@code models} (a gRPC message's): a
   * credential restricted to some models is refused a call that names none.
   */
  public Decision checkModels(Principal principal, java.util.List<String> models, String where) {
    if (principal == null || !principal.restrictedToModels()) {
      return new Decision.Allowed(principal);
    }
    if (models.isEmpty()) {
      return counted(new Decision.Denied(FailureReason.MODEL, "credential '" + principal.name()
          + "' is restricted to models " + principal.describeModels() + " and this call names none of them"), where);
    }
    for (String model : models) {
      Decision d = checkModel(principal, model, where);
      if (d instanceof Decision.Denied) {
        return d;
      }
    }
    return new Decision.Allowed(principal);
  }

  static Scope grpcScope(String fullMethod) {
    return switch (fullMethod) {
      case "tensorflow.serving.ModelService/HandleReloadConfigRequest",
          "inference.GRPCInferenceService/RepositoryIndex",
          "inference.GRPCInferenceService/RepositoryModelLoad",
          "inference.GRPCInferenceService/RepositoryModelUnload" -> Scope.ADMIN;
      default -> Scope.INFER;
    };
  }

  private static Decision authorize(Principal p, RequestTarget target) {
    if (!p.has(target.scope())) {
      return noScope(p, target.scope());
    }
    if (p.restrictedToModels()) {
      if (target.model() != null) {
        return p.mayReach(target.model()) ? new Decision.Allowed(p) : noModel(p, target.model());
      }
      if (target.scope() == Scope.ADMIN || !target.canonical()) {
        return new Decision.Denied(FailureReason.MODEL, "credential '" + p.name() + "' is restricted to models "
            + p.describeModels() + " and this request names none of them");
      }
    }
    return new Decision.Allowed(p);
  }

  private static Decision.Denied noScope(Principal p, Scope scope) {
    return new Decision.Denied(FailureReason.SCOPE, "credential '" + p.name() + "' lacks the scope '"
        + scope.label() + "' this route needs");
  }

  private static Decision.Denied noModel(Principal p, String model) {
    return new Decision.Denied(FailureReason.MODEL, "credential '" + p.name() + "' may not reach model '" + model
        + "' (it is restricted to " + p.describeModels() + ")");
  }

  private Decision counted(Decision d, String where) {
    if (d instanceof Decision.Denied denied) {
      failures.record(denied, where);
    }
    return d;
  }

  /** Re-reads a changed key file or JWKS (the reload schedule calls this). */
  void refresh() {
    if (authenticator != null) {
      authenticator.refresh();
    }
  }
}
