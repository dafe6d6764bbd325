package dev.shardserve.gateway.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccessPolicyTest {
  @TempDir Path dir;
  Path keyFile;
  AccessPolicy policy;

  static final String KEYS = """
      inferer:infer:%s
      admin:admin:%s
      scraper:metrics:%s
      hpt-only:infer,admin:%s:half_plus_two
      """.formatted(ApiKeys.hashHex("k-infer"), ApiKeys.hashHex("k-admin"), ApiKeys.hashHex("k-metrics"),
      ApiKeys.hashHex("k-hpt"));

  @BeforeEach
  void start() throws Exception {
    keyFile = Files.writeString(dir.resolve("keys"), KEYS);
    policy = new Security(settings(keyFile), () -> 0L).access();
  }

  static SecuritySettings settings(Path keys) {
    return new SecuritySettings(null, keys, null, "", "", Duration.ofSeconds(60), Duration.ofSeconds(2));
  }

  static Function<String, Optional<String>> headers(Map<String, String> h) {
    return name -> Optional.ofNullable(h.get(name));
  }

  Decision infer(String path, Map<String, String> h) {
    return policy.check(Listener.INFERENCE, "POST", path, headers(h));
  }

  static Decision.Denied denied(Decision d, FailureReason reason) {
    Decision.Denied x = assertInstanceOf(Decision.Denied.class, d);
    assertEquals(reason, x.reason(), x.message());
    return x;
  }

  @Test
  void inference_withoutCredentials_401() {
    Decision.Denied d = denied(infer("/v1/models/half_plus_two:predict", Map.of()), FailureReason.MISSING);
    assertTrue(d.unauthenticated());
    assertEquals(1, policy.failures().count(FailureReason.MISSING));
  }

  @Test
  void inference_bearerKey_and_xApiKey_allowed() {
    assertEquals("inferer", ((Decision.Allowed) infer("/v1/models/m:predict",
        Map.of("authorization", "Bearer k-infer"))).principal().name());
    assertInstanceOf(Decision.Allowed.class, infer("/v2/models/m/infer", Map.of("x-api-key", "k-infer")));
    assertInstanceOf(Decision.Allowed.class, infer("/v1/models/m", Map.of("authorization", "bearer  k-infer ")));
  }

  @Test
  void wrongKey_401_invalidKey_basicScheme_401_malformed() {
    denied(infer("/v1/models/m:predict", Map.of("authorization", "Bearer nope")), FailureReason.INVALID_KEY);
    denied(infer("/v1/models/m:predict", Map.of("authorization", "Basic a2V5")), FailureReason.MALFORMED);
    denied(infer("/v1/models/m:predict", Map.of("x-api-key", " ")), FailureReason.MALFORMED);
  }

  @Test
  void bearerWithTwoDots_isReadAsJwt_refusedWithoutJwks() {
    denied(infer("/v1/models/m:predict", Map.of("authorization", "Bearer a.b.c")), FailureReason.INVALID_TOKEN);
  }

  @Test
  void healthLiveAndReady_areOpen_butNotTheirNeighbours() {
    assertEquals(Decision.OPEN, policy.check(Listener.INFERENCE, "GET", "/v2/health/live", headers(Map.of())));
    assertEquals(Decision.OPEN, policy.check(Listener.INFERENCE, "GET", "/v2/health/ready", headers(Map.of())));
    denied(policy.check(Listener.INFERENCE, "GET", "/v2/health/live/", headers(Map.of())), FailureReason.MISSING);
    denied(policy.check(Listener.INFERENCE, "GET", "/v2", headers(Map.of())), FailureReason.MISSING);
    denied(policy.check(Listener.INFERENCE, "GET", "/unknown", headers(Map.of())), FailureReason.MISSING);
  }

  @Test
  void scopesPerApi_403WithoutTheScope() {
    Map<String, String> admin = Map.of("x-api-key", "k-admin");
    Map<String, String> infer = Map.of("x-api-key", "k-infer");
    Map<String, String> metrics = Map.of("x-api-key", "k-metrics");
    denied(infer("/v1/models/m:predict", admin), FailureReason.SCOPE);
    denied(infer("/v1/models/m:predict", metrics), FailureReason.SCOPE);
    // the repository endpoints need admin, even on the inference listener
    denied(infer("/v2/repository/index", infer), FailureReason.SCOPE);
    assertInstanceOf(Decision.Allowed.class, infer("/v2/repository/models/m/load", admin));
    // admin listener: admin; /metrics there: metrics
    denied(policy.check(Listener.ADMIN, "GET", "/admin/models", headers(infer)), FailureReason.SCOPE);
    assertInstanceOf(Decision.Allowed.class, policy.check(Listener.ADMIN, "GET", "/admin/models", headers(admin)));
    denied(policy.check(Listener.ADMIN, "GET", "/metrics", headers(admin)), FailureReason.SCOPE);
    assertInstanceOf(Decision.Allowed.class, policy.check(Listener.ADMIN, "GET", "/metrics", headers(metrics)));
    assertInstanceOf(Decision.Allowed.class, policy.check(Listener.METRICS, "GET", "/metrics", headers(metrics)));
    denied(policy.check(Listener.METRICS, "GET", "/metrics", headers(infer)), FailureReason.SCOPE);
    Decision.Denied d = denied(infer("/v1/models/m:predict", admin), FailureReason.SCOPE);
    assertTrue(!d.unauthenticated() && d.message().contains("'infer'"), d.message());
  }

  @Test
  void modelRestrictedKey_reachesOnlyItsModels() {
    Map<String, String> hpt = Map.of("authorization", "Bearer k-hpt");
    assertInstanceOf(Decision.Allowed.class, infer("/v1/models/half_plus_two/versions/1:predict", hpt));
    assertInstanceOf(Decision.Allowed.class, infer("/v2/models/half_plus_two/infer", hpt));
    Decision.Denied d = denied(infer("/v1/models/mlp:predict", hpt), FailureReason.MODEL);
    assertTrue(d.message().contains("'mlp'"), d.message());
    denied(infer("/v2/models/mlp/ready", hpt), FailureReason.MODEL);
    // paths whose route cannot be told safely, and cluster-wide admin calls, are refused
    denied(infer("/v1/models/half_plus_two/../mlp:predict", hpt), FailureReason.MODEL);
    denied(infer("/v1//models/mlp:predict", hpt), FailureReason.MODEL);
    denied(policy.check(Listener.ADMIN, "POST", "/admin/reload-config", headers(hpt)), FailureReason.MODEL);
    assertInstanceOf(Decision.Allowed.class, policy.check(Listener.ADMIN, "POST",
        "/admin/models/half_plus_two/unload", headers(hpt)));
    denied(policy.check(Listener.ADMIN, "POST", "/admin/models/mlp/unload", headers(hpt)), FailureReason.MODEL);
  }

  @Test
  void grpc_healthOpen_methodsNeedScopes_modelCheckedAfterDecoding() {
    assertEquals(Decision.OPEN, policy.checkGrpc("grpc.health.v1.Health/Check", headers(Map.of())));
    denied(policy.checkGrpc("tensorflow.serving.PredictionService/Predict", headers(Map.of())),
        FailureReason.MISSING);
    Decision d = policy.checkGrpc("tensorflow.serving.PredictionService/Predict",
        headers(Map.of("authorization", "Bearer k-hpt")));
    Principal p = ((Decision.Allowed) d).principal();
    denied(policy.checkGrpc("tensorflow.serving.ModelService/HandleReloadConfigRequest",
        headers(Map.of("x-api-key", "k-infer"))), FailureReason.SCOPE);
    assertInstanceOf(Decision.Allowed.class, policy.checkModel(p, "half_plus_two", "gRPC Predict"));
    denied(policy.checkModel(p, "mlp", "gRPC Predict"), FailureReason.MODEL);
  }

  @Test
  void noAuthenticationConfigured_everythingOpen() {
    AccessPolicy open = AccessPolicy.open(new AuthFailures(() -> 0L));
    assertEquals(Decision.OPEN, open.check(Listener.ADMIN, "POST", "/admin/reload-config", headers(Map.of())));
    assertNull(((Decision.Allowed) open.checkModel(null, "m", "x")).principal());
  }

  @Test
  void keyFileReload_newKeyWorks_brokenFileKeepsPreviousKeys() throws Exception {
    Security security = new Security(settings(keyFile), () -> 0L);
    AccessPolicy p = security.access();
    Map<String, String> carol = Map.of("x-api-key", "k-carol");
    denied(p.check(Listener.INFERENCE, "POST", "/v1/models/m:predict", headers(carol)), FailureReason.INVALID_KEY);
    Files.writeString(keyFile, KEYS + "carol:infer:" + ApiKeys.hashHex("k-carol") + "\n");
    security.refresh();
    assertInstanceOf(Decision.Allowed.class, p.check(Listener.INFERENCE, "POST", "/v1/models/m:predict",
        headers(carol)));
    Files.writeString(keyFile, "carol:bogus-scope:" + ApiKeys.hashHex("k-carol") + "\n");
    security.refresh(); // logged, not applied: never fail open, never lock everyone out on a typo
    assertInstanceOf(Decision.Allowed.class, p.check(Listener.INFERENCE, "POST", "/v1/models/m:predict",
        headers(carol)));
    Files.delete(keyFile);
    security.refresh();
    assertInstanceOf(Decision.Allowed.class, p.check(Listener.INFERENCE, "POST", "/v1/models/m:predict",
        headers(Map.of("x-api-key", "k-infer"))));
  }

  @Test
  void jwt_throughThePolicy_scopeFromTheToken_wrongIssuer401() throws Exception {
    com.nimbusds.jose.jwk.RSAKey rsa = new com.nimbusds.jose.jwk.gen.RSAKeyGenerator(2048).keyID("k").generate();
    Path jwks = Files.writeString(dir.resolve("jwks.json"),
        new com.nimbusds.jose.jwk.JWKSet(rsa.toPublicJWK()).toString());
    AccessPolicy p = new Security(new SecuritySettings(null, null, jwks, "iss", "aud", Duration.ofSeconds(60),
        Duration.ofSeconds(2)), () -> 0L).access();
    String good = token(rsa, "iss", "infer");
    Decision d = p.check(Listener.INFERENCE, "POST", "/v1/models/m:predict",
        headers(Map.of("authorization", "Bearer " + good)));
    assertEquals("jwt:svc", ((Decision.Allowed) d).principal().name());
    denied(p.check(Listener.ADMIN, "GET", "/admin/models", headers(Map.of("authorization", "Bearer " + good))),
        FailureReason.SCOPE);
    denied(p.check(Listener.INFERENCE, "POST", "/v1/models/m:predict",
        headers(Map.of("authorization", "Bearer " + token(rsa, "other", "infer")))), FailureReason.INVALID_TOKEN);
    // an API key where only JWTs are configured
    denied(p.check(Listener.INFERENCE, "POST", "/v1/models/m:predict", headers(Map.of("x-api-key", "k-infer"))),
        FailureReason.INVALID_KEY);
  }

  static String token(com.nimbusds.jose.jwk.RSAKey key, String issuer, String scope) throws Exception {
    com.nimbusds.jwt.SignedJWT jwt = new com.nimbusds.jwt.SignedJWT(
        new com.nimbusds.jose.JWSHeader.Builder(com.nimbusds.jose.JWSAlgorithm.RS256).keyID("k").build(),
        new com.nimbusds.jwt.JWTClaimsSet.Builder().subject("svc").issuer(issuer).audience("aud")
            .expirationTime(new java.util.Date(System.currentTimeMillis() + 600_000)).claim("scope", scope).build());
    jwt.sign(new com.nimbusds.jose.crypto.RSASSASigner(key));
    return jwt.serialize();
  }

  @Test
  void failures_countedPerReason() {
    infer("/v1/models/m:predict", Map.of());
    infer("/v1/models/m:predict", Map.of("x-api-key", "wrong"));
    infer("/v1/models/m:predict", Map.of("x-api-key", "k-admin"));
    Map<FailureReason, Long> s = policy.failures().snapshot();
    assertEquals(1L, s.get(FailureReason.MISSING));
    assertEquals(1L, s.get(FailureReason.INVALID_KEY));
    assertEquals(1L, s.get(FailureReason.SCOPE));
    assertEquals(0L, s.get(FailureReason.MODEL));
  }
}
