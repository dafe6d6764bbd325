package dev.shardserve.gateway.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ApiKeysTest {
  static final String ALICE = ApiKeys.hashHex("alice-secret");
  static final String BOB = ApiKeys.hashHex("bob-secret");

  @Test
  void parse_commentsBlankLinesAndSpaces_areIgnored_hashEitherCase() {
    ApiKeys keys = ApiKeys.parse("""
        # team keys

          alice : infer, metrics : %s
        bob:admin:%s: half_plus_two , mlp
        """.formatted(ALICE, BOB.toUpperCase(Locale.ROOT)), "keys.txt");
    assertEquals(2, keys.size());
    Principal a = keys.authenticate("alice-secret");
    assertEquals("alice", a.name());
    assertEquals(Set.of(Scope.INFER, Scope.METRICS), a.scopes());
    assertTrue(a.mayReach("anything"));
    Principal b = keys.authenticate("bob-secret");
    assertEquals(Set.of(Scope.ADMIN), b.scopes());
    assertEquals(Set.of("half_plus_two", "mlp"), b.models());
  }

  @Test
  void authenticate_unknownKey_isNull() {
    ApiKeys keys = ApiKeys.parse("alice:infer:" + ALICE, "k");
    assertNull(keys.authenticate("alice-secreT"));
    assertNull(keys.authenticate(""));
  }

  @Test
  void parse_unknownScope_namesTheLine() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ApiKeys.parse("# c\nalice:infer:" + ALICE + "\nbob:root:" + BOB, "/etc/keys"));
    assertTrue(e.getMessage().startsWith("/etc/keys line 3: unknown scope 'root'"), e.getMessage());
  }

  @Test
  void parse_malformedLines_nameTheLine() {
    for (String bad : new String[] {"alice:infer", "alice:infer:abc", "al ice:infer:" + ALICE, ":infer:" + ALICE,
        "alice::" + ALICE, "a:infer:" + ALICE + ":bad/model", "a:infer:" + ALICE + ":m:extra"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ApiKeys.parse(bad, "f"),
          bad);
      assertTrue(e.getMessage().startsWith("f line 1: "), e.getMessage());
    }
  }

  @Test
  void parse_nameTwice_isRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ApiKeys.parse("a:infer:" + ALICE + "\na:admin:" + BOB, "f"));
    assertTrue(e.getMessage().contains("line 2") && e.getMessage().contains("used twice"), e.getMessage());
  }

  @Test
  void errors_neverContainTheHash() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ApiKeys.parse("a:nope:" + ALICE, "f"));
    assertTrue(!e.getMessage().contains(ALICE), e.getMessage());
  }
}
