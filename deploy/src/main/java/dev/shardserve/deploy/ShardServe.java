package dev.shardserve.deploy;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The one executable: {@code standalone} (one JVM, worker and gateway), {@code node} and
 * {@code gateway} (separate processes forming one cluster), {@code example-model} and
 * {@code certs} (development certificates).
 * Every option has an environment-variable default, shown in {@code --help}.
 */
@Command(
    name = "shardserve",
    mixinStandardHelpOptions = true,
    versionProvider = ShardServe.Version.class,
    description = "An actor-sharded inference cluster for TensorFlow SavedModels.",
    subcommands = {
        StandaloneCommand.class,
        NodeCommand.class,
        GatewayCommand.class,
        ExampleModelCommand.class,
        CertsCommand.class,
        CommandLine.HelpCommand.class
    })
public final class ShardServe implements Runnable {

  public static void main(String[] args) {
    int code = new CommandLine(new ShardServe()).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }

  @Override
  public void run() {
    CommandLine.usage(this, System.out);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = ShardServe.class.getPackage().getImplementationVersion();
      return new String[] {"shardserve " + (v == null ? "development build" : v)};
    }
  }
}
