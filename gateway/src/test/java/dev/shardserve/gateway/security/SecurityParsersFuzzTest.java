package dev.shardserve.gateway.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * Coverage-guided fuzzing (Jazzer) of what the security layer parses from outside: the API key
 * file, JWTs and JWKS documents, credential headers and request paths. Refusals must be the
 * documented ones (IllegalArgumentException naming the line, InvalidToken, a Denied decision);
 * anything else is a finding, and so is a path that reaches a model route without its scope.
 */
class SecurityParsersFuzzTest {
  private static final String ISSUER = "https://issuer.example";
  private static final JwtVerifier VERIFIER = JwtVerifier.create(
      "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k\","
          + "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}",
      "fuzz-jwks", ISSUER, "shardserve", Duration.ofSeconds(60));

  @FuzzTest(maxDuration = "10s")
  void apiKeyFile(byte[] text) {
    try {
      ApiKeys keys = ApiKeys.parse(new String(text, StandardCharsets.UTF_8), "fuzz");
      keys.authenticate("any key");
    } catch (IllegalArgumentException e) {
      assertTrue(e.getMessage().startsWith("fuzz line "), e.getMessage());
    }
  }

  @FuzzTest(maxDuration = "10s")
  void jwt(byte[] token) {
    try {
      VERIFIER.verify(new String(token, StandardCharsets.UTF_8));
    } catch (JwtVerifier.InvalidToken e) {
      // refused: fine
    }
  }

  @FuzzTest(maxDuration = "10s")
  void jwks(byte[] document) {
    try {
      JwtVerifier.create(new String(document, StandardCharsets.UTF_8), "fuzz", ISSUER, "aud", Duration.ZERO);
    } catch (IllegalArgumentException e) {
      // refused: fine
    }
  }

  /** Any path and header value: only the two health paths are open, and a model is read only from a canonical path. */
  @FuzzTest(maxDuration = "10s")
  void requestPathAndCredentials(FuzzedDataProvider data) {
    Listener listener = data.pickValue(Listener.values());
    String auth = data.consumeString(64);
    String path = data.consumeRemainingAsString();
    RequestTarget t = RequestTarget.of(listener, path);
    if (t.scope() == null) {
      assertEquals(Listener.INFERENCE, listener);
      assertTrue(path.equals(RequestTarget.LIVE) || path.equals(RequestTarget.READY), path);
    }
    if (t.model() != null) {
      assertTrue(t.canonical());
      assertFalse(t.model().isEmpty() || t.model().contains("/") || t.model().contains(":"), t.model());
    }
    Credential c = Credential.from(name -> Optional.ofNullable(Map.of("authorization", auth).get(name)));
    assertEquals("Credential[" + c.kind() + "]", c.toString()); // never shows the value
  }
}
