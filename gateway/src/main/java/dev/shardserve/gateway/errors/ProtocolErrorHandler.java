package dev.shardserve.gateway.errors;

import akka.event.LoggingAdapter;
import akka.http.ParsingErrorHandler;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.scaladsl.model.ErrorInfo;
import akka.http.scaladsl.model.StatusCode;
import akka.http.scaladsl.settings.ServerSettings;

/**
 * Answers requests too malformed to reach a route (Akka HTTP's parser refused them), set as
 * {@code akka.http.server.parsing.error-handler}: with the one error body {@code {"error": ...}},
 * and as a client error: an unknown method (Akka: 501) or a garbled request line (505) is the
 * client's mistake, answered 400, so that no bad input is ever answered 5xx. 4xx statuses (413,
 * 414, 431) stay as they are. The message is the parser's summary, cut to 200 characters.
 */
public final class ProtocolErrorHandler extends ParsingErrorHandler {
  private static final int MAX_MESSAGE = 200;

  @Override
  public HttpResponse handle(StatusCode status, ErrorInfo info, LoggingAdapter log, ServerSettings settings) {
    String summary = info.summary().isEmpty() ? status.reason() : info.summary();
    String message = summary.length() > MAX_MESSAGE ? summary.substring(0, MAX_MESSAGE) + "..." : summary;
    return HttpErrors.withStatus(status.intValue() >= 500 ? StatusCodes.BAD_REQUEST : status, "Malformed request: " + message);
  }
}
