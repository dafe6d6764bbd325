package dev.shardserve.gateway.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Artery between the nodes of a cluster over TLS with mutual authentication: the
 * {@code tls-tcp} transport with Akka's rotating-keys provider, which reads {@code tls.key},
 * {@code tls.crt} and {@code ca.crt} from one folder (re-read as they rotate). Its rules: RSA keys,
 * and a node certificate issued directly by the CA; peers must also share a subject name (one
 * cluster certificate for every node, as {@code shardserve certs} writes). A process without a
 * certificate from the cluster's CA cannot connect, so it cannot join.
 */
public final class ClusterTls {
  public static final String KEY = "tls.key";
  public static final String CERT = "tls.crt";
  public static final String CA = "ca.crt";

  private ClusterTls() {}

  /**
   * Checks the folder as Artery will use it, so that a mistake stops the start with a message
   * instead of a node that silently never joins; throws IllegalArgumentException naming the file.
   */
  public static void validate(Path dir) {
    String key = read(dir.resolve(KEY));
    String cert = read(dir.resolve(CERT));
    String ca = read(dir.resolve(CA));
    PrivateKey k = PemFiles.privateKey(key, dir.resolve(KEY).toString());
    if (!k.getAlgorithm().equals("RSA")) {
      throw new IllegalArgumentException(dir.resolve(KEY) + " is an " + k.getAlgorithm() + " key: Artery's "
          + "rotating-keys provider needs RSA");
    }
    X509Certificate node = PemFiles.certificates(cert, dir.resolve(CERT).toString()).get(0);
    PemFiles.requireMatch(k, node, dir.resolve(KEY).toString());
    List<X509Certificate> cas = PemFiles.certificates(ca, dir.resolve(CA).toString());
    for (X509Certificate c : cas) {
      try {
        node.verify(c.getPublicKey());
        return;
      } catch (GeneralSecurityException e) {
        // try the next CA certificate
      }
    }
    throw new IllegalArgumentException(dir.resolve(CERT) + " is not issued directly by the CA in "
        + dir.resolve(CA) + " (Artery's rotating-keys provider accepts no intermediate CA)");
  }

  /** The Akka settings that turn Artery's TLS on with the files of {@code dir}. */
  public static Map<String, Object> config(Path dir) {
    Path d = dir.toAbsolutePath();
    Map<String, Object> c = new TreeMap<>();
    c.put("akka.remote.artery.transport", "tls-tcp");
    c.put("akka.remote.artery.ssl.ssl-engine-provider", "akka.remote.artery.tcp.ssl.RotatingKeysSSLEngineProvider");
    c.put("akka.remote.artery.ssl.rotating-keys-engine.key-file", d.resolve(KEY).toString());
    c.put("akka.remote.artery.ssl.rotating-keys-engine.cert-file", d.resolve(CERT).toString());
    c.put("akka.remote.artery.ssl.rotating-keys-engine.ca-cert-file", d.resolve(CA).toString());
    return c;
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new IllegalArgumentException("cluster TLS: cannot read " + file + " (the folder needs " + KEY + ", "
          + CERT + " and " + CA + "): " + e);
    }
  }
}
