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
      if (label == null || !label.matches("[a-zA-Z0-9_]+")) {
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
}
