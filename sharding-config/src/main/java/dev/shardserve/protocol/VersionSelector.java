package dev.shardserve.protocol;

/**
 * Which version of a model a request wants: the newest available one, a version number, or a
 * label such as {@code stable}. {@link #describe} renders it as TF Serving's error messages do
 * ({@code Latest(half_plus_two)}, {@code Specific(half_plus_two, 123)}).
 */
public sealed interface VersionSelector
    permits VersionSelector.Latest, VersionSelector.Specific, VersionSelector.Label {

  String describe(String model);

  enum Latest implements VersionSelector {
    INSTANCE;

    @Override
    public String describe(String model) {
      return "Latest(" + model + ")";
    }
  }

  record Specific(long version) implements VersionSelector {
    public Specific {
      if (version < 0) {
        throw new IllegalArgumentException("version must be >= 0, was " + version);
      }
    }

    @Override
    public String describe(String model) {
      return "Specific(" + model + ", " + version + ")";
    }
  }

  record Label(String label) implements VersionSelector {
    public Label {
      if (!validLabel(label)) {
        throw new IllegalArgumentException("invalid version label '" + label + "': expected [a-zA-Z0-9_]+");
      }
    }

    @Override
    public String describe(String model) {
      return "Label(" + model + ", " + label + ")";
    }
  }

  static VersionSelector latest() {
    return Latest.INSTANCE;
  }

  /** {@code [a-zA-Z0-9_]+}, checked without a regular expression (labels arrive with requests). */
  private static boolean validLabel(String label) {
    if (label == null || label.isEmpty()) {
      return false;
    }
    for (int i = 0; i < label.length(); i++) {
      char c = label.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
        return false;
      }
    }
    return true;
  }
}
