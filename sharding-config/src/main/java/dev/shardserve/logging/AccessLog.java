package dev.shardserve.logging;

import com.typesafe.config.Config;
import dev.shardserve.metrics.Api;
import dev.shardserve.metrics.Protocol;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per answered request on the logger {@code shardserve.access}, off by default and
 * sampled when on: model, version, protocol, api, status, duration, bytes in and out, request id
 * and trace id. Never a body, a tensor value, a header other than the ids, or a key. The request
 * path calls {@link #requestAnswered} where it records the request's metrics; with the log off
 * that is one field read.
 */
public final class AccessLog {
  public static final String LOGGER = "shardserve.access";

  /**
   * {@code shardserve.logging.access-log}.
   *
   * @param enabled write access lines ({@code enabled}, env {@code SHARDSERVE_ACCESS_LOG})
   * @param sampleRate fraction of answers written, 0 < rate <= 1 ({@code sample-rate})
   */
  public record Settings(boolean enabled, double sampleRate) {
    public static final Settings OFF = new Settings(false, 1.0);

    public Settings {
      if (!(sampleRate > 0 && sampleRate <= 1)) {
        throw new IllegalArgumentException(
            "shardserve.logging.access-log.sample-rate must be > 0 and <= 1, was " + sampleRate);
      }
    }

    public static Settings fromConfig(Config accessLog) {
      return new Settings(accessLog.getBoolean("enabled"), accessLog.getDouble("sample-rate"));
    }
  }

  private final Settings settings;
  private final Logger log;
  private final DoubleSupplier random;

  AccessLog(Settings settings, Logger log, DoubleSupplier random) {
    this.settings = settings;
    this.log = log;
    this.random = random;
  }

  public static AccessLog create(Settings settings) {
    return new AccessLog(settings, LoggerFactory.getLogger(LOGGER), () -> ThreadLocalRandom.current().nextDouble());
  }

  public boolean enabled() {
    return settings.enabled();
  }

  /**
   * Writes the answer's line when the log is on and this answer is sampled.
   *
   * @param model the model name as requested (a name that does not exist is written, cleaned of
   *     control characters and cut at 256 characters; it is never a metric label)
   * @param version the answering version, or -1
   * @param code HTTP status, or the gRPC code number for {@link Protocol#GRPC}
   */
  public void requestAnswered(String model, long version, Protocol protocol, Api api, int code, long durationNanos,
      long requestBytes, long responseBytes, RequestContext context) {
    if (!settings.enabled() || (settings.sampleRate() < 1 && random.getAsDouble() >= settings.sampleRate())) {
      return;
    }
    StructuredLine.event("access")
        .add(MdcKeys.MODEL, model)
        .add(MdcKeys.VERSION, version < 0 ? "" : Long.toString(version))
        .add("protocol", protocol.label())
        .add("api", api.label())
        .add("status", protocol.codeLabel(code))
        .add("duration_ms", String.format(Locale.ROOT, "%.3f", durationNanos / 1e6))
        .add("request_bytes", requestBytes)
        .add("response_bytes", responseBytes)
        .add(MdcKeys.REQUEST_ID, context.requestId().value())
        .add(MdcKeys.TRACE_ID, context.trace().traceId())
        .add(MdcKeys.SPAN_ID, context.trace().spanId())
        .info(log);
  }
}
