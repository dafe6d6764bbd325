package dev.shardserve.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shardserve.gateway.security.DevCertificates;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A bad security file stops the start with exit code 2 and a message naming it (before any port is bound). */
class SecurityStartupTest {
  @TempDir Path tmp;

  private String[] run(int expectedExit, String... args) {
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    int code;
    try {
      code = new CommandLine(new ShardServe()).execute(args);
    } finally {
      System.setErr(err);
    }
    String text = captured.toString(StandardCharsets.UTF_8);
    assertEquals(expectedExit, code, text);
    return new String[] {text};
  }

  @Test
  void malformedKeyFile_exit2_namingTheLine() throws Exception {
    Path repo = Files.createDirectories(tmp.resolve("repo"));
    Path keys = Files.writeString(tmp.resolve("keys"), "# ok\nalice:infer:" + "a".repeat(64) + "\nbob:superuser:"
        + "b".repeat(64) + "\n");
    String err = run(2, "standalone", "--model-repo", repo.toString(), "--api-keys", keys.toString())[0];
    assertTrue(err.contains(keys + " line 3") && err.contains("unknown scope 'superuser'"), err);
  }

  @Test
  void clusterTlsFolderFromAnotherCa_exit2_namingTheFile() throws Exception {
    Path repo = Files.createDirectories(tmp.resolve("repo"));
    DevCertificates.writeAll(tmp.resolve("a"), List.of(), Duration.ofDays(1));
    DevCertificates.writeAll(tmp.resolve("b"), List.of(), Duration.ofDays(1));
    Files.copy(tmp.resolve("b/cluster/ca.crt"), tmp.resolve("a/cluster/ca.crt"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    String err = run(2, "standalone", "--model-repo", repo.toString(), "--cluster-tls-dir",
        tmp.resolve("a/cluster").toString())[0];
    assertTrue(err.contains("not issued directly by the CA"), err);
  }

  @Test
  void tlsKeyNotMatchingTheCertificate_exit2() throws Exception {
    Path repo = Files.createDirectories(tmp.resolve("repo"));
    DevCertificates.writeAll(tmp.resolve("c"), List.of("example.test"), Duration.ofDays(1));
    String err = run(2, "standalone", "--model-repo", repo.toString(), "--tls-cert",
        tmp.resolve("c/server.crt").toString(), "--tls-key", tmp.resolve("c/ca.key").toString())[0];
    assertTrue(err.contains("does not belong to the first certificate"), err);
  }

  @Test
  void configFileBasePathOutsideTheRoots_exit2() throws Exception {
    Path repo = Files.createDirectories(tmp.resolve("repo"));
    Path config = Files.writeString(tmp.resolve("models.conf"), "models { m { base-path = \"/etc\" } }");
    String err = run(2, "standalone", "--model-repo", repo.toString(), "--model-config", config.toString())[0];
    assertTrue(err.contains("model 'm'") && err.contains("outside the repository roots"), err);
  }

  @Test
  void certsCommand_writesEveryFile_keysOwnerOnly() throws Exception {
    Path out = tmp.resolve("certs");
    assertEquals(0, new CommandLine(new ShardServe()).execute("certs", "--out", out.toString(), "--hosts",
        "node1.example,10.0.0.5"));
    for (String f : List.of("ca.crt", "ca.key", "server.crt", "server.key", "cluster/tls.crt", "cluster/tls.key",
        "cluster/ca.crt", "api-key", "api-keys")) {
      assertTrue(Files.size(out.resolve(f)) > 0, f);
    }
    assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
        Files.getPosixFilePermissions(out.resolve("server.key"))));
    dev.shardserve.gateway.security.ClusterTls.validate(out.resolve("cluster"));
    var cert = (java.security.cert.X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
        .generateCertificate(Files.newInputStream(out.resolve("server.crt")));
    String sans = cert.getSubjectAlternativeNames().toString();
    assertTrue(sans.contains("node1.example") && sans.contains("10.0.0.5") && sans.contains("localhost")
        && sans.contains("127.0.0.1"), sans);
  }
}
