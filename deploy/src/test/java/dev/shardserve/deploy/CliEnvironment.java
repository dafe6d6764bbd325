package dev.shardserve.deploy;

import dev.shardserve.desired.ModelConfigFile;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

/**
 * The environment variables shardserve reads, each with where it is read: every
 * {@code ${env:NAME}} default of the command line's options (all subcommands), and the few read
 * elsewhere, each checked against its reader here, so the list cannot claim a variable nobody reads.
 */
final class CliEnvironment {
  private static final Pattern ENV_DEFAULT = Pattern.compile("\\$\\{env:([A-Za-z0-9_]+)(:-([^}]*))?}");

  private CliEnvironment() {}

  /** Variable name -> who reads it. */
  static Map<String, String> readers() throws IOException {
    Map<String, String> readers = new TreeMap<>();
    CommandLine root = new CommandLine(new ShardServe());
    for (CommandLine sub : root.getSubcommands().values()) {
      for (OptionSpec o : sub.getCommandSpec().options()) {
        Matcher m = ENV_DEFAULT.matcher(rawDefault(o));
        while (m.find()) {
          readers.put(m.group(1), sub.getCommandName() + " " + o.longestName());
        }
      }
    }
    // TF Serving's variables, read by the model config source.
    if (ModelConfigFile.fromTfServingEnvironment(Map.of("MODEL_NAME", "m", "MODEL_BASE_PATH", "/elsewhere"))
        .toString().contains("/elsewhere")) {
      readers.put("MODEL_NAME", "ModelConfigFile.fromTfServingEnvironment");
      readers.put("MODEL_BASE_PATH", "ModelConfigFile.fromTfServingEnvironment");
    }
    Path entrypoint = Path.of("image", "docker-entrypoint.sh");
    if (Files.readString(entrypoint).contains("${JAVA_OPTS")) {
      readers.put("JAVA_OPTS", entrypoint.toString());
    }
    Path logback = Path.of("src", "main", "resources", "logback.xml");
    if (Files.readString(logback).contains("${SHARDSERVE_LOG_LEVEL")) {
      readers.put("SHARDSERVE_LOG_LEVEL", logback.toString());
    }
    return readers;
  }

  /** The default of an option of a subcommand when its environment variable is not set. */
  static String defaultOf(String subcommand, String option) {
    OptionSpec o = new CommandLine(new ShardServe()).getSubcommands().get(subcommand).getCommandSpec()
        .findOption(option);
    Matcher m = ENV_DEFAULT.matcher(rawDefault(o));
    return m.matches() ? m.group(3) : rawDefault(o);
  }

  /** The environment variable behind an option of a subcommand, if it has one. */
  static Optional<String> variableOf(String subcommand, String option) {
    OptionSpec o = new CommandLine(new ShardServe()).getSubcommands().get(subcommand).getCommandSpec()
        .findOption(option);
    Matcher m = ENV_DEFAULT.matcher(rawDefault(o));
    return m.find() ? Optional.of(m.group(1)) : Optional.empty();
  }

  /**
   * The default as written in the {@code @Option} annotation ({@code ${env:NAME:-value}}); picocli's
   * {@code defaultValue()} answers it already resolved against this JVM's environment.
   */
  private static String rawDefault(OptionSpec o) {
    if (o.userObject() instanceof Field f && f.getAnnotation(Option.class) != null) {
      return f.getAnnotation(Option.class).defaultValue();
    }
    return String.valueOf(o.defaultValue());
  }

  static TreeSet<String> names() throws IOException {
    return new TreeSet<>(readers().keySet());
  }
}
