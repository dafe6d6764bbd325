package dev.shardserve.protocol;

import java.util.regex.Pattern;

/**
 * The rule for model names: {@code [A-Za-z0-9_.-]{1,128}}, never {@code .} or {@code ..}. A name
 * is a folder of the model repository and part of an entity id, so this rule keeps requests out
 * of other folders and away from the {@code #} that separates an entity id's replica.
 */
public final class ModelName {
  private static final Pattern VALID = Pattern.compile("[A-Za-z0-9_.-]{1,128}");

  private ModelName() {}

  public static boolean isValid(String name) {
    return name != null && VALID.matcher(name).matches() && !name.equals(".") && !name.equals("..");
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
