package dev.shardserve.gateway.metrics;

import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpHeader;
import akka.http.javadsl.model.HttpMethods;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.ContentEncoding;
import akka.http.javadsl.model.headers.HttpEncodings;
import akka.http.javadsl.model.headers.RawHeader;
import dev.shardserve.gateway.errors.HttpErrors;
import dev.shardserve.protocol.ErrorCode;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.GZIPOutputStream;

/**
 * {@code GET /metrics}: one scrape of a registry in the format the client's {@code Accept} asks
 * for (Prometheus text 0.0.4 by default; OpenMetrics 1.0 for {@code application/openmetrics-text};
 * the protobuf format that Prometheus asks for with native histograms on), gzip-compressed when
 * {@code Accept-Encoding} allows it. Anything else on the listener is 404, other methods 405.
 * The scrape runs on the calling thread: it reads atomic counters and allocates the answer, well
 * under a millisecond for a few thousand series.
 */
public final class MetricsEndpoint {
  public static final String PATH = "/metrics";

  private final PrometheusRegistry registry;
  private final ExpositionFormats formats = ExpositionFormats.init();
  private final Map<String, ContentType> contentTypes = new ConcurrentHashMap<>();

  private MetricsEndpoint(PrometheusRegistry registry) {
    this.registry = registry;
  }

  public static MetricsEndpoint create(PrometheusRegistry registry) {
    return new MetricsEndpoint(registry);
  }

  public HttpResponse handle(HttpRequest request) {
    String path = request.getUri().path();
    if (!path.equals(PATH)) {
      return HttpErrors.of(ErrorCode.NOT_FOUND, "Not found: " + request.method().value() + " " + path
          + " (this listener serves GET " + PATH + ")");
    }
    if (!request.method().equals(HttpMethods.GET)) {
      return HttpErrors.of(ErrorCode.METHOD_NOT_ALLOWED, request.method().value() + " is not allowed on " + PATH
          + ": use GET").addHeader(RawHeader.create("Allow", "GET"));
    }
    ExpositionFormatWriter writer = writer(request.getHeader("Accept").map(HttpHeader::value).orElse(null));
    boolean gzip = acceptsGzip(request.getHeader("Accept-Encoding").map(HttpHeader::value).orElse(""));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(16 * 1024);
    try (OutputStream out = gzip ? new GZIPOutputStream(bytes, 8 * 1024) : bytes) {
      writer.write(out, registry.scrape());
    } catch (IOException | RuntimeException e) {
      return HttpErrors.of(ErrorCode.INTERNAL, "scrape failed: " + e);
    }
    HttpResponse response = HttpResponse.create()
        .withEntity(contentType(writer.getContentType()), bytes.toByteArray());
    return gzip ? response.addHeader(ContentEncoding.create(HttpEncodings.GZIP)) : response;
  }

  /** The writer the Accept header selects; text when it selects a format this jar cannot write. */
  ExpositionFormatWriter writer(String accept) {
    ExpositionFormatWriter w = formats.findWriter(accept);
    return w.isAvailable() ? w : formats.getPrometheusTextFormatWriter();
  }

  /** True when {@code Accept-Encoding} lists gzip (or *) without {@code q=0}. */
  static boolean acceptsGzip(String acceptEncoding) {
    for (String part : acceptEncoding.split(",")) {
      String[] tokens = part.trim().split(";");
      String coding = tokens[0].trim().toLowerCase(Locale.ROOT);
      if (!coding.equals("gzip") && !coding.equals("*")) {
        continue;
      }
      boolean refused = false;
      for (int i = 1; i < tokens.length; i++) {
        String p = tokens[i].trim().replace(" ", "");
        if (p.startsWith("q=")) {
          try {
            refused = Double.parseDouble(p.substring(2)) <= 0;
          } catch (NumberFormatException e) {
            refused = true;
          }
        }
      }
      if (!refused) {
        return true;
      }
    }
    return false;
  }

  private ContentType contentType(String value) {
    return contentTypes.computeIfAbsent(value, ContentTypes::parse);
  }
}
