package dev.shardserve.gateway.kserve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class V2PathTest {

  @Test
  void parsesEveryRoute() {
    assertEquals(new V2Path(V2Route.SERVER_METADATA, null, null), V2Path.parse("/v2"));
    assertEquals(new V2Path(V2Route.SERVER_READY, null, null), V2Path.parse("/v2/health/ready"));
    assertEquals(new V2Path(V2Route.MODEL_METADATA, "m", null), V2Path.parse("/v2/models/m"));
    assertEquals(new V2Path(V2Route.VERSION_METADATA, "m", "3"), V2Path.parse("/v2/models/m/versions/3"));
    assertEquals(new V2Path(V2Route.MODEL_READY, "m", null), V2Path.parse("/v2/models/m/ready"));
    assertEquals(new V2Path(V2Route.VERSION_INFER, "m", "stable"), V2Path.parse("/v2/models/m/versions/stable/infer"));
    assertEquals(new V2Path(V2Route.MODEL_METADATA, "ready", null), V2Path.parse("/v2/models/ready"));
    assertEquals(new V2Path(V2Route.MODEL_READY, "versions", null), V2Path.parse("/v2/models/versions/ready"));
  }

  @Test
  void refusesOtherPaths() {
    for (String p : new String[] {"/v2/models/", "/v2/models//infer", "/v2/models/m/versions//infer",
        "/v2/models/m/explain", "/v2/models/m/infer/", "/v2/health", "/v2/repository/index", "/v2x"}) {
      assertNull(V2Path.parse(p), p);
    }
  }

  @Test
  void versionStrings_numberOrLabel() {
    assertEquals("Specific(m, 12)", V2Calls.version("12").describe("m"));
    assertEquals("Label(m, canary)", V2Calls.version("canary").describe("m"));
    assertEquals("Latest(m)", V2Calls.version("").describe("m"));
    assertEquals(V2Exception.class, org.junit.jupiter.api.Assertions.assertThrows(V2Exception.class,
        () -> V2Calls.version("1x")).getClass());
  }
}
