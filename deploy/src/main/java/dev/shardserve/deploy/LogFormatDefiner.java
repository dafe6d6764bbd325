package dev.shardserve.deploy;

import ch.qos.logback.core.PropertyDefinerBase;
import java.util.Locale;

/**
 * logback.xml's {@code LOG_FORMAT}: {@code json} when {@code SHARDSERVE_LOG_FORMAT} (or the system
 * property {@code shardserve.log.format}) says {@code json}, otherwise {@code text}. An unknown
 * value falls back to text with a Logback warning, rather than leaving the process without logs.
 */
public final class LogFormatDefiner extends PropertyDefinerBase {
  static final String ENV = "SHARDSERVE_LOG_FORMAT";
  static final String PROPERTY = "shardserve.log.format";

  @Override
  public String getPropertyValue() {
    String value = System.getProperty(PROPERTY, System.getenv(ENV));
    return format(value);
  }

  String format(String value) {
    if (value == null || value.isBlank()) {
      return "text";
    }
    String v = value.trim().toLowerCase(Locale.ROOT);
    if (v.equals("json") || v.equals("text")) {
      return v;
    }
    addWarn(ENV + "='" + value + "' is not json or text: logging as text");
    return "text";
  }
}
