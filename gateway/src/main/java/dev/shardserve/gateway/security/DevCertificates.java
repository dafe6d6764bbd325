package dev.shardserve.gateway.security;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Development certificates, made in Java with BouncyCastle's certificate builder (bcpkix): the JDK
 * has no public API that issues certificates ({@code sun.security.x509} is internal and changes
 * between releases; keytool is a separate program). A CA, and certificates it issues directly (as
 * Artery's rotating-keys provider requires), all RSA 2048 with SHA-256. Not for production: the
 * CA key sits next to the certificates.
 */
public final class DevCertificates {
  /** The subject name every node's cluster certificate carries: Artery checks that peers share one. */
  public static final String CLUSTER_NAME = "shardserve-cluster";

  private static final SecureRandom RANDOM = new SecureRandom();

  private DevCertificates() {}

  /** A certificate and its key pair. */
  public record Issued(X509Certificate certificate, KeyPair keys) {
    public String certificatePem() {
      return pem(certificate);
    }

    /** The private key as unencrypted PKCS#8 PEM ({@code BEGIN PRIVATE KEY}). */
    public String keyPem() {
      try {
        return pem(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(keys.getPrivate(), null));
      } catch (org.bouncycastle.util.io.pem.PemGenerationException e) {
        throw new IllegalStateException("cannot encode the key as PKCS#8", e);
      }
    }
  }

  /** What a certificate is for: its extended key usage. */
  public enum Usage { SERVER, CLIENT, SERVER_AND_CLIENT }

  public static Issued certificateAuthority(String commonName, Duration validity) {
    KeyPair keys = rsa();
    X500Name name = new X500Name("CN=" + commonName);
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b = builder(name, name, keys, validity)
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
          .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
      return new Issued(sign(b, keys), keys);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot make a CA certificate: " + e.getMessage(), e);
    }
  }

  /**
   * A certificate issued by {@code ca} for {@code commonName}, valid for every name in
   * {@code names} (DNS names, or IP addresses written as such).
   */
  public static Issued issue(Issued ca, String commonName, List<String> names, Usage usage, Duration validity) {
    KeyPair keys = rsa();
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      List<GeneralName> sans = new ArrayList<>();
      for (String n : new LinkedHashSet<>(names)) {
        sans.add(isIp(n) ? new GeneralName(GeneralName.iPAddress, n) : new GeneralName(GeneralName.dNSName, n));
      }
      KeyPurposeId[] purposes = switch (usage) {
        case SERVER -> new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth};
        case CLIENT -> new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth};
        case SERVER_AND_CLIENT -> new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth};
      };
      X509v3CertificateBuilder b = builder(new X500Name(ca.certificate().getSubjectX500Principal().getName()),
          new X500Name("CN=" + commonName), keys, validity)
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
          .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes))
          .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()))
          .addExtension(Extension.authorityKeyIdentifier, false,
              ext.createAuthorityKeyIdentifier(ca.certificate()));
      if (!sans.isEmpty()) {
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(new GeneralName[0])));
      }
      return new Issued(sign(b, ca.keys()), keys);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot issue a certificate for " + commonName + ": " + e.getMessage(), e);
    }
  }

  /**
   * What {@code shardserve certs --out DIR --hosts h1,h2} writes: {@code ca.crt}, {@code ca.key}, a
   * server certificate for the HTTP and gRPC ports ({@code server.crt}, {@code server.key}; every
   * host plus {@code localhost} and {@code 127.0.0.1}) and the cluster folder
   * ({@code cluster/tls.crt}, {@code cluster/tls.key}, {@code cluster/ca.crt}: one certificate every
   * node shares, for Artery's mutual TLS). Keys are written readable by the owner only.
   *
   * @return the files written
   */
  public static List<Path> writeAll(Path out, List<String> hosts, Duration validity) {
    Set<String> names = new LinkedHashSet<>();
    for (String h : hosts) {
      if (!h.isBlank()) {
        names.add(h.strip());
      }
    }
    names.add("localhost");
    names.add("127.0.0.1");
    Issued ca = certificateAuthority("shardserve development CA", validity);
    Issued server = issue(ca, names.iterator().next(), List.copyOf(names), Usage.SERVER, validity);
    Issued cluster = issue(ca, CLUSTER_NAME, List.of(CLUSTER_NAME), Usage.SERVER_AND_CLIENT, validity);
    List<Path> written = new ArrayList<>();
    try {
      Files.createDirectories(out.resolve("cluster"));
      written.add(write(out.resolve("ca.crt"), ca.certificatePem(), false));
      written.add(write(out.resolve("ca.key"), ca.keyPem(), true));
      written.add(write(out.resolve("server.crt"), server.certificatePem() + ca.certificatePem(), false));
      written.add(write(out.resolve("server.key"), server.keyPem(), true));
      written.add(write(out.resolve("cluster/tls.crt"), cluster.certificatePem(), false));
      written.add(write(out.resolve("cluster/tls.key"), cluster.keyPem(), true));
      written.add(write(out.resolve("cluster/ca.crt"), ca.certificatePem(), false));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write certificates to " + out + ": " + e.getMessage(), e);
    }
    return written;
  }

  /** Writes {@code text}; a key file is created readable by the owner only (where the file system has POSIX permissions). */
  public static Path write(Path file, String text, boolean secret) throws IOException {
    Files.deleteIfExists(file);
    if (secret && file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }
    return Files.writeString(file, text);
  }

  private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys,
      Duration validity) {
    Instant now = Instant.now();
    return new JcaX509v3CertificateBuilder(issuer, new BigInteger(127, RANDOM).add(BigInteger.ONE),
        Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(validity)), subject, keys.getPublic());
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, KeyPair signer) throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter().getCertificate(
          b.build(new JcaContentSignerBuilder("SHA256withRSA").build(signer.getPrivate())));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  private static KeyPair rsa() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048, RANDOM);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no RSA", e);
    }
  }

  private static boolean isIp(String name) {
    if (!name.matches("[0-9.]+") && !name.contains(":")) {
      return false;
    }
    try {
      InetAddress.getByName(name); // a literal address: no lookup
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  static String pem(Object o) {
    StringWriter w = new StringWriter();
    try (JcaPEMWriter pw = new JcaPEMWriter(w)) {
      if (o instanceof org.bouncycastle.util.io.pem.PemObjectGenerator g) {
        pw.writeObject(g);
      } else {
        pw.writeObject(o);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return w.toString();
  }
}
