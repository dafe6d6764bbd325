package dev.shardserve.gateway.security;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * Reads PEM certificates and private keys: a certificate chain (server certificate first), and an
 * unencrypted key in PKCS#8 ({@code PRIVATE KEY}), PKCS#1 ({@code RSA PRIVATE KEY}) or SEC1
 * ({@code EC PRIVATE KEY}) form. Errors name the file and never contain key material.
 */
final class PemFiles {
  /** Used for decoding only, never registered as a JCA provider. */
  private static final java.security.Provider BOUNCY_CASTLE = new org.bouncycastle.jce.provider.BouncyCastleProvider();

  private PemFiles() {}

  static List<X509Certificate> certificates(String pem, String source) {
    List<X509Certificate> out = new ArrayList<>();
    try {
      for (var c : CertificateFactory.getInstance("X.509")
          .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
        out.add((X509Certificate) c);
      }
    } catch (CertificateException | RuntimeException e) {
      throw new IllegalArgumentException(source + " is not a PEM certificate chain: " + e.getMessage(), e);
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(source + " holds no PEM certificate");
    }
    return out;
  }

  static PrivateKey privateKey(String pem, String source) {
    Object o;
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      o = parser.readObject();
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(source + " is not a PEM private key (" + e.getClass().getSimpleName() + ")");
    }
    if (o instanceof PEMEncryptedKeyPair || o instanceof PKCS8EncryptedPrivateKeyInfo) {
      throw new IllegalArgumentException(source + " is an encrypted private key: give an unencrypted PKCS#8 or "
          + "PKCS#1 key (e.g. openssl pkcs8 -topk8 -nocrypt) and protect the file instead");
    }
    PrivateKeyInfo info = o instanceof PEMKeyPair pair ? pair.getPrivateKeyInfo()
        : o instanceof PrivateKeyInfo i ? i : null;
    try {
      if (info != null) {
        // Decoded by BouncyCastle (PKCS#1 and SEC1 forms too), re-encoded as PKCS#8 for the JDK's own
        // key factories, which the TLS stack uses.
        PrivateKey decoded = new JcaPEMKeyConverter().setProvider(BOUNCY_CASTLE).getPrivateKey(info);
        String algorithm = switch (decoded.getAlgorithm()) {
          case "RSA" -> "RSA";
          case "EC", "ECDSA" -> "EC";
          default -> throw new IllegalArgumentException(source + " holds a " + decoded.getAlgorithm()
              + " key: RSA or EC keys only");
        };
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(decoded.getEncoded()));
      }
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(source + " holds a private key this JDK cannot read ("
          + e.getClass().getSimpleName() + ")");
    }
    throw new IllegalArgumentException(source + " holds no PEM private key (expected BEGIN PRIVATE KEY, "
        + "BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY)");
  }

  /** Throws when {@code key} is not the private key of {@code cert} (a half-done rotation, or a mix-up). */
  static void requireMatch(PrivateKey key, X509Certificate cert, String source) {
    String alg = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      default -> throw new IllegalArgumentException(source + ": unsupported key algorithm " + key.getAlgorithm()
          + " (RSA or EC)");
    };
    try {
      byte[] probe = "shardserve key check".getBytes(StandardCharsets.US_ASCII);
      Signature s = Signature.getInstance(alg);
      s.initSign(key);
      s.update(probe);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance(alg);
      v.initVerify(cert.getPublicKey());
      v.update(probe);
      if (v.verify(sig)) {
        return;
      }
    } catch (GeneralSecurityException e) {
      // falls through: not a matching pair
    }
    throw new IllegalArgumentException(source + ": the private key does not belong to the first certificate ("
        + cert.getSubjectX500Principal().getName() + ")");
  }
}
