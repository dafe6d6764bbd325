package dev.shardserve.gateway.errors;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.RawHeader;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.shardserve.protocol.ErrorCode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The one place that turns errors into HTTP, for every listener (TF Serving routes, the Open
 * Inference Protocol routes, the admin API, a node's admin listener): protocol {@link ErrorCode}s
 * to statuses (as TF Serving maps its canonical codes: invalid argument 400, not found 404,
 * unavailable 503, deadline 504), and every error body to {@code {"error": "..."}}. Retriable
 * answers carry {@code Retry-After}; 401 carries {@code WWW-Authenticate: Bearer}.
 */
public final class HttpErrors {
  private static final JsonFactory JSON = new JsonFactory();
  private static final String RETRY_AFTER_SECONDS = "1";

  private HttpErrors() {}

  public static StatusCode status(ErrorCode code) {
    return switch (code) {
      case MODEL_NOT_FOUND, VERSION_NOT_FOUND, NOT_FOUND -> StatusCodes.NOT_FOUND;
      case LABEL_NOT_FOUND, SIGNATURE_NOT_FOUND, INVALID_INPUT -> StatusCodes.BAD_REQUEST;
      case OVERLOADED, MODEL_NOT_READY, UNAVAILABLE, MODEL_LOAD_FAILED -> StatusCodes.SERVICE_UNAVAILABLE;
      case DEADLINE_EXCEEDED -> StatusCodes.GATEWAY_TIMEOUT;
      case TOO_LARGE -> StatusCodes.PAYLOAD_TOO_LARGE;
      case UNAUTHENTICATED -> StatusCodes.UNAUTHORIZED;
      case PERMISSION_DENIED -> StatusCodes.FORBIDDEN;
      case METHOD_NOT_ALLOWED -> StatusCodes.METHOD_NOT_ALLOWED;
      case UNSUPPORTED_MEDIA_TYPE -> StatusCodes.UNSUPPORTED_MEDIA_TYPE;
      case REQUEST_TIMEOUT -> StatusCodes.REQUEST_TIMEOUT;
      case INTERNAL -> StatusCodes.INTERNAL_SERVER_ERROR;
    };
  }

  /** The response for {@code code} with {@code message} as {@code {"error": message}}. */
  public static HttpResponse of(ErrorCode code, String message) {
    return of(code, message, "Bearer");
  }

  /**
   * As {@link #of}, with {@code challenge} as the {@code WWW-Authenticate} value of a 401 (for
   * example {@code Bearer realm="shardserve", error="invalid_token"}).
   */
  public static HttpResponse of(ErrorCode code, String message, String challenge) {
    HttpResponse r = withStatus(status(code), message);
    if (code.retriable()) {
      r = r.addHeader(RawHeader.create("Retry-After", RETRY_AFTER_SECONDS));
    }
    if (code == ErrorCode.UNAUTHENTICATED) {
      r = r.addHeader(RawHeader.create("WWW-Authenticate", challenge));
    }
    return r;
  }

  /**
   * The error body with a status no {@link ErrorCode} stands for: only for answers the HTTP parser
   * decides before any route (414, 431), see {@link ProtocolErrorHandler}.
   */
  public static HttpResponse withStatus(StatusCode status, String message) {
    return HttpResponse.create().withStatus(status).withEntity(ContentTypes.APPLICATION_JSON, body(message));
  }

  public static HttpResponse badRequest(String message) {
    return of(ErrorCode.INVALID_INPUT, message);
  }

  /** The error body: {@code {"error": message}}. */
  public static byte[] body(String message) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(64 + message.length());
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("error", message);
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
