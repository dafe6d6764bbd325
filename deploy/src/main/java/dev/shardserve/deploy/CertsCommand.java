package dev.shardserve.deploy;

import dev.shardserve.gateway.security.ApiKeys;
import dev.shardserve.gateway.security.DevCertificates;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "certs", mixinStandardHelpOptions = true,
    description = "Write development certificates: a CA (ca.crt, ca.key), a server certificate for the HTTP and "
        + "gRPC ports (server.crt, server.key: every --hosts name plus localhost and 127.0.0.1), the cluster folder "
        + "for --cluster-tls-dir (cluster/tls.crt, cluster/tls.key, cluster/ca.crt), and an API key with every scope "
        + "(api-key, and api-keys for --api-keys). For development and tests: use your own CA in production.")
final class CertsCommand implements Callable<Integer> {
  @Option(names = "--out", paramLabel = "DIR", required = true, description = "Folder to write to (created).")
  Path out;

  @Option(names = "--hosts", split = ",", paramLabel = "HOST",
      description = "Names and addresses clients use to reach the HTTP/gRPC ports, comma-separated.")
  List<String> hosts = new ArrayList<>();

  @Option(names = "--days", defaultValue = "365", description = "Validity in days (default ${DEFAULT-VALUE}).")
  int days;

  @Override
  public Integer call() throws IOException {
    if (days < 1) {
      System.err.println("--days must be >= 1, was " + days);
      return 2;
    }
    List<Path> written = new ArrayList<>(DevCertificates.writeAll(out, hosts, Duration.ofDays(days)));
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    String key = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    written.add(DevCertificates.write(out.resolve("api-key"), key + "\n", true));
    written.add(DevCertificates.write(out.resolve("api-keys"), "# name:scopes:sha256(key)[:models]\n"
        + "dev:infer,admin,metrics:" + ApiKeys.hashHex(key) + "\n", false));
    for (Path p : written) {
      System.out.println("wrote " + p);
    }
    System.out.println("start with: --tls-cert " + out.resolve("server.crt") + " --tls-key " + out.resolve("server.key")
        + " --api-keys " + out.resolve("api-keys") + " --cluster-tls-dir " + out.resolve("cluster"));
    return Files.isRegularFile(out.resolve("cluster/tls.key")) ? 0 : 1;
  }
}
