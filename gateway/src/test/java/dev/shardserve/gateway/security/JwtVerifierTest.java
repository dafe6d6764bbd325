package dev.shardserve.gateway.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class JwtVerifierTest {
  static final String ISSUER = "https://issuer.example";
  static final String AUDIENCE = "shardserve";
  static RSAKey rsa;
  static ECKey ec;
  static RSAKey stranger;
  static JwtVerifier verifier;

  @BeforeAll
  static void keys() throws Exception {
    rsa = new RSAKeyGenerator(2048).keyID("rsa1").generate();
    ec = new ECKeyGenerator(Curve.P_256).keyID("ec1").generate();
    stranger = new RSAKeyGenerator(2048).keyID("rsa1").generate(); // same kid, other key
    verifier = JwtVerifier.create(jwks(), "jwks.json", ISSUER, AUDIENCE, Duration.ofSeconds(60));
  }

  static String jwks() {
    return new JWKSet(List.of(rsa.toPublicJWK(), ec.toPublicJWK())).toString();
  }

  static JWTClaimsSet.Builder claims() {
    return new JWTClaimsSet.Builder().subject("svc").issuer(ISSUER).audience(AUDIENCE)
        .expirationTime(Date.from(Instant.now().plusSeconds(600))).claim("scope", "infer metrics other");
  }

  static String rs256(RSAKey key, UnaryOperator<JWTClaimsSet.Builder> edit) throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID())
        .type(JOSEObjectType.JWT).build(), edit.apply(claims()).build());
    jwt.sign(new RSASSASigner(key));
    return jwt.serialize();
  }

  @Test
  void rs256_valid_givesSubjectAndKnownScopes() throws Exception {
    Principal p = verifier.verify(rs256(rsa, b -> b));
    assertEquals("jwt:svc", p.name());
    assertEquals(Set.of(Scope.INFER, Scope.METRICS), p.scopes());
    assertTrue(p.mayReach("any"));
  }

  @Test
  void es256_valid_scpList() throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("ec1").build(),
        claims().claim("scope", null).claim("scp", List.of("admin")).build());
    jwt.sign(new ECDSASigner(ec));
    assertEquals(Set.of(Scope.ADMIN), verifier.verify(jwt.serialize()).scopes());
  }

  @Test
  void wrongIssuer_refused() throws Exception {
    assertRefused(rs256(rsa, b -> b.issuer("https://evil.example")), "iss");
  }

  @Test
  void wrongAudience_refused() throws Exception {
    assertRefused(rs256(rsa, b -> b.audience("other")), "aud");
  }

  @Test
  void expired_refused() throws Exception {
    assertRefused(rs256(rsa, b -> b.expirationTime(Date.from(Instant.now().minusSeconds(3600)))), "expired");
  }

  @Test
  void noExpiry_refused() throws Exception {
    assertRefused(rs256(rsa, b -> b.expirationTime(null)), "exp");
  }

  @Test
  void badSignature_refused() throws Exception {
    assertRefused(rs256(stranger, b -> b), "signature");
  }

  @Test
  void unsignedToken_refused() {
    String plain = new PlainJWT(claims().build()).serialize();
    assertThrows(JwtVerifier.InvalidToken.class, () -> verifier.verify(plain));
  }

  @Test
  void garbage_refused_withoutEchoingIt() {
    JwtVerifier.InvalidToken e = assertThrows(JwtVerifier.InvalidToken.class, () -> verifier.verify("a.b.c"));
    assertTrue(!e.getMessage().contains("a.b.c"), e.getMessage());
  }

  @Test
  void create_notAJwks_namesTheFile() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> JwtVerifier.create("{\"keys\": 3}", "/etc/jwks.json", ISSUER, AUDIENCE, Duration.ZERO));
    assertTrue(e.getMessage().contains("/etc/jwks.json"), e.getMessage());
  }

  private static void assertRefused(String token, String fragment) {
    JwtVerifier.InvalidToken e = assertThrows(JwtVerifier.InvalidToken.class, () -> verifier.verify(token));
    assertTrue(e.getMessage().toLowerCase().contains(fragment), e.getMessage());
  }
}
