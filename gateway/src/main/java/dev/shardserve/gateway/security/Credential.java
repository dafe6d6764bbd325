package dev.shardserve.gateway.security;

import java.util.Optional;
import java.util.function.Function;

/**
 * What a client presented: {@code Authorization: Bearer <value>} or {@code X-API-Key: <value>}
 * (on gRPC the metadata keys {@code authorization} and {@code x-api-key}). A bearer value with
 * exactly two dots is a JWT, anything else an API key. {@code toString} never shows the value.
 */
record Credential(Kind kind, String value) {
  enum Kind { NONE, MALFORMED, KEY, JWT }

  static final Credential NONE = new Credential(Kind.NONE, "");
  static final Credential MALFORMED = new Credential(Kind.MALFORMED, "");

  /** {@code header} looks a header (or metadata key) up by its lower-case name. */
  static Credential from(Function<String, Optional<String>> header) {
    Optional<String> auth = header.apply("authorization");
    if (auth.isPresent()) {
      String a = auth.get().strip();
      if (a.length() < 7 || !a.regionMatches(true, 0, "Bearer ", 0, 7)) {
        return MALFORMED;
      }
      String v = a.substring(7).strip();
      if (v.isEmpty()) {
        return MALFORMED;
      }
      return new Credential(dots(v) == 2 ? Kind.JWT : Kind.KEY, v);
    }
    Optional<String> key = header.apply("x-api-key");
    if (key.isPresent()) {
      String v = key.get().strip();
      return v.isEmpty() ? MALFORMED : new Credential(Kind.KEY, v);
    }
    return NONE;
  }

  private static int dots(String v) {
    int n = 0;
    for (int i = 0; i < v.length(); i++) {
      if (v.charAt(i) == '.') {
        n++;
      }
    }
    return n;
  }

  @Override
  public String toString() {
    return "Credential[" + kind + "]";
  }
}
