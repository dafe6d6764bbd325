package dev.shardserve.gateway.tfserving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The path scanner against the regular expression it replaced, on generated paths. */
class V1PathTest {
  static final Pattern PATH = Pattern.compile(
      "/v1/models/([^/:]+)(?:/versions/([^/:]+)|/labels/([^/:]+))?(?:(/metadata)|:([A-Za-z_]+))?");
  static final List<String> PIECES = List.of("/v1/models/", "m", "half_plus_two", "/versions/", "/labels/", "12",
      "stable", "/metadata", ":predict", ":classify", ":", "/", "x", "-", "ü", ":pre dict", "//", "/v1", "models");

  static V1Path byRegex(String path) {
    Matcher m = PATH.matcher(path);
    return m.matches() ? new V1Path(m.group(1), m.group(2), m.group(3), m.group(4) != null, m.group(5)) : null;
  }

  @Test
  void agreesWithTheRegularExpression_onGeneratedPaths() {
    Random r = new Random(7);
    for (int i = 0; i < 50_000; i++) {
      StringBuilder b = new StringBuilder(r.nextInt(5) == 0 ? "" : "/v1/models/");
      for (int k = r.nextInt(6); k > 0; k--) {
        b.append(PIECES.get(r.nextInt(PIECES.size())));
      }
      String path = b.toString();
      assertEquals(byRegex(path), V1Path.parse(path), path);
    }
  }

  @Test
  void theForms_tfServingServes() {
    assertEquals(new V1Path("m", "3", null, false, "predict"), V1Path.parse("/v1/models/m/versions/3:predict"));
    assertEquals(new V1Path("m", null, "stable", true, null), V1Path.parse("/v1/models/m/labels/stable/metadata"));
    assertEquals(new V1Path("m", null, null, false, null), V1Path.parse("/v1/models/m"));
    assertNull(V1Path.parse("/v1/models/m/versions/:predict"));
    assertNull(V1Path.parse("/v1/models/m/metadata:predict"));
  }
}
