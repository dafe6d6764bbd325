package dev.shardserve.logging;

import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.MDC;

/**
 * One log line made of fields: the message is {@code key=value} pairs (readable in the text
 * format, values with spaces or quotes quoted), and for the duration of the call each field is
 * also an MDC entry, so the JSON encoder writes it as a field of its own. Values are cut to 256
 * characters and control characters are replaced, so no input can forge a line.
 */
final class StructuredLine {
  private static final int MAX_VALUE = 256;

  private final String[] keys = new String[16];
  private final String[] values = new String[16];
  private int size;

  private StructuredLine() {}

  static StructuredLine event(String event) {
    return new StructuredLine().add(MdcKeys.EVENT, event);
  }

  StructuredLine add(String key, Object value) {
    if (size == keys.length) {
      throw new IllegalStateException("a structured line holds at most " + keys.length + " fields");
    }
    keys[size] = key;
    values[size] = clean(String.valueOf(value));
    size++;
    return this;
  }

  String message() {
    StringBuilder b = new StringBuilder(64);
    for (int i = 0; i < size; i++) {
      if (i > 0) {
        b.append(' ');
      }
      b.append(keys[i]).append('=');
      String v = values[i];
      if (v.isEmpty() || v.indexOf(' ') >= 0 || v.indexOf('"') >= 0 || v.indexOf('=') >= 0) {
        b.append('"').append(v.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
      } else {
        b.append(v);
      }
    }
    return b.toString();
  }

  void info(Logger log) {
    if (log.isInfoEnabled()) {
      emit(log, false);
    }
  }

  void warn(Logger log) {
    if (log.isWarnEnabled()) {
      emit(log, true);
    }
  }

  private void emit(Logger log, boolean warn) {
    Map<String, String> before = MDC.getCopyOfContextMap();
    try {
      for (int i = 0; i < size; i++) {
        MDC.put(keys[i], values[i]);
      }
      if (warn) {
        log.warn(message());
      } else {
        log.info(message());
      }
    } finally {
      if (before == null) {
        MDC.clear();
      } else {
        MDC.setContextMap(before);
      }
    }
  }

  static String clean(String value) {
    String v = value.length() > MAX_VALUE ? value.substring(0, MAX_VALUE) + "..." : value;
    for (int i = 0; i < v.length(); i++) {
      if (Character.isISOControl(v.charAt(i))) {
        StringBuilder b = new StringBuilder(v.length());
        for (int j = 0; j < v.length(); j++) {
          char c = v.charAt(j);
          b.append(Character.isISOControl(c) ? '?' : c);
        }
        return b.toString();
      }
    }
    return v;
  }
}
