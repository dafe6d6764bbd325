package dev.shardserve.protocol;

/**
 * The rule for model names: {@code [A-Za-z0-9_.-]{1,128}}, never {@code .} or {@code ..}. A name
 * is a folder of the model repository and part of an entity id, so this rule keeps requests out
 * of other folders and away from the {@code #} that separates an entity id's replica.
 */
public final class ModelName {
  private ModelName() {}

  /** Checked on every request, so by a loop over the characters rather than a regular expression. */
  public static boolean isValid(String name) {
    if (name == null || name.isEmpty() || name.length() > 128 || name.equals(".") || name.equals("..")) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.'
          || c == '-')) {
        return false;
      }
    }
    return true;
  }

  /** Returns the name, or throws naming the bad value. */
  public static String require(String name) {
    if (!isValid(name)) {
      throw new IllegalArgumentException(
          "invalid model name '" + name + "': expected [A-Za-z0-9_.-]{1,128}, not '.' or '..'");
    }
    return name;
  }
}
