package dev.shardserve.gateway.security;

import akka.http.javadsl.model.HttpEntity;
import akka.http.javadsl.model.HttpHeader;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import dev.shardserve.gateway.errors.HttpErrors;
import dev.shardserve.protocol.ErrorCode;
import java.util.Locale;
import java.util.Optional;

/**
 * The check in front of one HTTP listener: on an admin listener the {@link AdminWriteGuard} first,
 * then the {@link AccessPolicy}. Answers the refusal, or empty to let the request through.
 */
public final class HttpGate {
  private final Listener listener;
  private final AccessPolicy policy;
  private final AdminWriteGuard guard;

  HttpGate(Listener listener, AccessPolicy policy, AdminWriteGuard guard) {
    this.listener = listener;
    this.policy = policy;
    this.guard = guard;
  }

  public Optional<HttpResponse> check(HttpRequest request) {
    String method = request.method().value();
    if (guard != null) {
      Optional<AdminWriteGuard.Refusal> refused = guard.check(method, header(request, "origin"),
          header(request, "sec-fetch-site"), header(request, "host"), mediaType(request.entity()));
      if (refused.isPresent()) {
        AdminWriteGuard.Refusal r = refused.get();
        return Optional.of(HttpErrors.of(r.status() == 415 ? ErrorCode.UNSUPPORTED_MEDIA_TYPE
            : ErrorCode.PERMISSION_DENIED, r.message()));
      }
    }
    Decision d = policy.check(listener, method, request.getUri().path(), name -> header(request, name));
    return d instanceof Decision.Denied denied ? Optional.of(refusal(denied)) : Optional.empty();
  }

  /**
   * The one answer to a refused credential: 401 with {@code WWW-Authenticate: Bearer} or 403, body
   * {@code {"error": "..."}}, through the one error mapping.
   */
  public static HttpResponse refusal(Decision.Denied denied) {
    if (!denied.unauthenticated()) {
      return HttpErrors.of(ErrorCode.PERMISSION_DENIED, denied.message());
    }
    String challenge = denied.reason() == FailureReason.INVALID_TOKEN
        ? "Bearer realm=\"shardserve\", error=\"invalid_token\"" : "Bearer realm=\"shardserve\"";
    return HttpErrors.of(ErrorCode.UNAUTHENTICATED, denied.message(), challenge);
  }

  private static Optional<String> header(HttpRequest request, String name) {
    return request.getHeader(name).map(HttpHeader::value);
  }

  /** The body's {@code type/subtype}, or null for a request without a body. */
  private static String mediaType(HttpEntity entity) {
    if (entity.isKnownEmpty()) {
      return null;
    }
    var m = entity.getContentType().mediaType();
    return (m.mainType() + "/" + m.subType()).toLowerCase(Locale.ROOT);
  }
}
