package dev.shardserve.gateway.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class AdminWriteGuardTest {
  final AdminWriteGuard guard = new AdminWriteGuard("127.0.0.1", false);
  static final Optional<String> HOST = Optional.of("127.0.0.1:8502");

  Optional<AdminWriteGuard.Refusal> post(Optional<String> origin, Optional<String> site, String mediaType) {
    return guard.check("POST", origin, site, HOST, mediaType);
  }

  @Test
  void curlLike_bodylessOrJson_passes() {
    assertTrue(post(Optional.empty(), Optional.empty(), null).isEmpty());
    assertTrue(post(Optional.empty(), Optional.empty(), "application/json").isEmpty());
    assertTrue(post(Optional.empty(), Optional.empty(), "application/octet-stream").isEmpty());
  }

  @Test
  void foreignOrigin_403_namingIt() {
    AdminWriteGuard.Refusal r = post(Optional.of("http://evil.example"), Optional.empty(), null).orElseThrow();
    assertEquals(403, r.status());
    assertTrue(r.message().contains("http://evil.example"), r.message());
    assertTrue(post(Optional.of("null"), Optional.empty(), null).isPresent());
    // another port on this host is another origin (a dev server, a page on another listener)
    assertTrue(post(Optional.of("http://localhost:3000"), Optional.empty(), null).isPresent());
    assertTrue(post(Optional.of("https://127.0.0.1:8502"), Optional.empty(), null).isPresent());
    // DNS rebinding: the attacker's name resolving to 127.0.0.1
    assertTrue(guard.check("POST", Optional.of("http://evil.example:8502"), Optional.empty(),
        Optional.of("evil.example:8502"), null).isPresent());
  }

  @Test
  void ownOrigin_passes() {
    assertTrue(post(Optional.of("http://127.0.0.1:8502"), Optional.empty(), "application/json").isEmpty());
    assertTrue(post(Optional.of("http://localhost:8502"), Optional.empty(), null).isEmpty());
  }

  @Test
  void crossSiteFetchMetadata_403() {
    AdminWriteGuard.Refusal r = post(Optional.empty(), Optional.of("cross-site"), null).orElseThrow();
    assertEquals(403, r.status());
    assertTrue(r.message().contains("cross-site"), r.message());
  }

  @Test
  void formAndTextBodies_415() {
    for (String t : new String[] {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}) {
      AdminWriteGuard.Refusal r = post(Optional.empty(), Optional.empty(), t).orElseThrow();
      assertEquals(415, r.status());
      assertTrue(r.message().contains(t), r.message());
    }
  }

  @Test
  void reads_arenotWrites() {
    assertTrue(guard.check("GET", Optional.of("http://evil.example"), Optional.of("cross-site"), HOST,
        null).isEmpty());
  }

  @Test
  void tlsListener_ownOriginIsHttps() {
    AdminWriteGuard tls = new AdminWriteGuard("127.0.0.1", true);
    assertTrue(tls.check("DELETE", Optional.of("https://127.0.0.1:8502"), Optional.empty(), HOST, null).isEmpty());
    assertTrue(tls.check("DELETE", Optional.of("http://127.0.0.1:8502"), Optional.empty(), HOST, null).isPresent());
  }
}
