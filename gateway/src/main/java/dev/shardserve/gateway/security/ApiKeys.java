package dev.shardserve.gateway.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The API keys of a key file: one line per key, {@code name:scope1,scope2:sha256hex[:model1,model2]}
 * (the hex SHA-256 of the key, either case; no model list means every model). Blank lines and
 * {@code #} comment lines are ignored, and so are spaces around fields. The file holds hashes only,
 * never keys. A key is checked by hashing it and comparing against every entry in constant time.
 */
public final class ApiKeys {
  private static final Pattern HEX64 = Pattern.compile("[0-9a-fA-F]{64}");
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.@-]{1,128}");

  private record Entry(Principal principal, byte[] hash) {}

  private final List<Entry> entries;

  private ApiKeys(List<Entry> entries) {
    this.entries = List.copyOf(entries);
  }

  /**
   * Parses a key file's text; {@code source} names the file in errors. A malformed line, an
   * unknown scope or a name used twice throws {@link IllegalArgumentException} naming the line.
   */
  public static ApiKeys parse(String text, String source) {
    List<Entry> out = new ArrayList<>();
    Set<String> names = new HashSet<>();
    String[] lines = text.split("\r?\n|\r", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String at = source + " line " + (i + 1);
      Entry e;
      try {
        e = entry(line);
      } catch (IllegalArgumentException ex) {
        throw new IllegalArgumentException(at + ": " + ex.getMessage()
            + " (expected name:scope1,scope2:sha256hex[:model1,model2])", ex);
      }
      if (!names.add(e.principal().name())) {
        throw new IllegalArgumentException(at + ": key name '" + e.principal().name() + "' is used twice");
      }
      out.add(e);
    }
    return new ApiKeys(out);
  }

  private static Entry entry(String line) {
    String[] f = line.split(":", -1);
    if (f.length < 3 || f.length > 4) {
      throw new IllegalArgumentException("expected 3 or 4 fields separated by ':', found " + f.length);
    }
    String name = f[0].strip();
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("key name '" + name + "' must match " + NAME.pattern());
    }
    Set<Scope> scopes = EnumSet.noneOf(Scope.class);
    for (String s : f[1].split(",", -1)) {
      scopes.add(Scope.parse(s.strip()));
    }
    String hex = f[2].strip();
    if (!HEX64.matcher(hex).matches()) {
      throw new IllegalArgumentException("the key hash must be 64 hex digits (SHA-256), found "
          + hex.length() + " characters");
    }
    Set<String> models = null;
    if (f.length == 4) {
      models = new LinkedHashSet<>();
      for (String m : f[3].split(",", -1)) {
        String model = m.strip();
        if (!dev.shardserve.protocol.ModelName.isValid(model)) {
          throw new IllegalArgumentException("invalid model name '" + model + "' in the model list");
        }
        models.add(model);
      }
    }
    return new Entry(new Principal(name, scopes, models), hexBytes(hex));
  }

  /** The principal whose hash matches this key, or null. Every entry is compared, in constant time each. */
  public Principal authenticate(String key) {
    byte[] hash = sha256(key.getBytes(StandardCharsets.UTF_8));
    Principal found = null;
    for (Entry e : entries) {
      if (MessageDigest.isEqual(e.hash(), hash) && found == null) {
        found = e.principal();
      }
    }
    return found;
  }

  public int size() {
    return entries.size();
  }

  /** The hex SHA-256 of a key, as a key file line holds it ({@code shardserve} prints it for a new key). */
  public static String hashHex(String key) {
    StringBuilder sb = new StringBuilder(64);
    for (byte b : sha256(key.getBytes(StandardCharsets.UTF_8))) {
      sb.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
    }
    return sb.toString();
  }

  static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  private static byte[] hexBytes(String hex) {
    byte[] out = new byte[hex.length() / 2];
    for (int i = 0; i < out.length; i++) {
      out[i] = (byte) Integer.parseInt(hex, 2 * i, 2 * i + 2, 16);
    }
    return out;
  }
}
