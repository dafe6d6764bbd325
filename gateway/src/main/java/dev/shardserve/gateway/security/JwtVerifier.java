package dev.shardserve.gateway.security;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import java.text.ParseException;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Verifies JWT bearer tokens (Nimbus JOSE + JWT) against the keys of a JWKS document: signed with
 * RS256 or ES256 by one of them, issued by {@code issuer}, for {@code audience}, not expired (an
 * {@code exp} claim is required; clock skew allowed). Scopes come from the {@code scope} claim
 * (space-separated, OAuth 2) or {@code scp} (a list or a space-separated string); scopes this
 * server does not know are ignored. A token's principal reaches every model.
 */
final class JwtVerifier {
  private static final Set<JWSAlgorithm> ALGORITHMS = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256);

  private final DefaultJWTProcessor<SecurityContext> processor;
  private final int keys;

  private JwtVerifier(DefaultJWTProcessor<SecurityContext> processor, int keys) {
    this.processor = processor;
    this.keys = keys;
  }

  /**
   * A verifier for the keys in {@code jwksJson}; {@code source} names the file in errors. A
   * document that is not a JWKS, or has no RSA or EC public key, throws {@link IllegalArgumentException}.
   */
  public static JwtVerifier create(String jwksJson, String source, String issuer, String audience, Duration skew) {
    if (issuer == null || issuer.isBlank() || audience == null || audience.isBlank()) {
      throw new IllegalArgumentException("JWT verification needs an issuer and an audience (--jwt-issuer, "
          + "--jwt-audience), was '" + issuer + "' and '" + audience + "'");
    }
    JWKSet set;
    try {
      set = JWKSet.parse(jwksJson).toPublicJWKSet();
    } catch (ParseException e) {
      throw new IllegalArgumentException(source + " is not a JWKS document: " + e.getMessage(), e);
    }
    long usable = set.getKeys().stream().filter(k -> k.getKeyType().getValue().equals("RSA")
        || k.getKeyType().getValue().equals("EC")).count();
    if (usable == 0) {
      throw new IllegalArgumentException(source + " holds no RSA or EC public key (RS256/ES256 tokens need one)");
    }
    DefaultJWTProcessor<SecurityContext> p = new DefaultJWTProcessor<>();
    p.setJWSKeySelector(new JWSVerificationKeySelector<>(ALGORITHMS, new ImmutableJWKSet<>(set)));
    DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(audience,
        new JWTClaimsSet.Builder().issuer(issuer).build(), Set.of("exp"));
    claims.setMaxClockSkew((int) Math.min(Integer.MAX_VALUE, skew.toSeconds()));
    p.setJWTClaimsSetVerifier(claims);
    return new JwtVerifier(p, (int) usable);
  }

  /** The token's principal; a token that fails any check throws {@link InvalidToken} saying which. */
  public Principal verify(String token) {
    JWTClaimsSet claims;
    try {
      claims = processor.process(token, null);
    } catch (ParseException e) {
      throw new InvalidToken("malformed JWT");
    } catch (BadJOSEException e) {
      throw new InvalidToken(e.getMessage());
    } catch (JOSEException | RuntimeException e) {
      throw new InvalidToken("JWT could not be verified: " + e.getClass().getSimpleName());
    }
    String subject = claims.getSubject();
    return new Principal(subject == null || subject.isBlank() ? "jwt" : "jwt:" + subject, scopes(claims), null);
  }

  int keys() {
    return keys;
  }

  private static Set<Scope> scopes(JWTClaimsSet claims) {
    Set<Scope> out = EnumSet.noneOf(Scope.class);
    for (String claim : List.of("scope", "scp")) {
      Object v = claims.getClaim(claim);
      if (v instanceof String s) {
        for (String label : s.trim().split("\\s+")) {
          add(out, label);
        }
      } else if (v instanceof List<?> list) {
        for (Object o : list) {
          if (o instanceof String label) {
            add(out, label);
          }
        }
      }
    }
    return out;
  }

  private static void add(Set<Scope> out, String label) {
    Scope s = Scope.find(label);
    if (s != null) {
      out.add(s);
    }
  }

  /** A token that did not verify; the message says why and never contains the token. */
  public static final class InvalidToken extends RuntimeException {
    InvalidToken(String message) {
      super(message, null, false, false);
    }
  }
}
