package dev.shardserve.gateway.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.time.Duration;
import java.util.List;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.operator.OutputEncryptor;
import org.junit.jupiter.api.Test;

class PemFilesTest {
  static final DevCertificates.Issued CA = DevCertificates.certificateAuthority("pem CA", Duration.ofDays(1));
  static final DevCertificates.Issued SERVER = DevCertificates.issue(CA, "localhost", List.of("localhost"),
      DevCertificates.Usage.SERVER, Duration.ofDays(1));

  @Test
  void pkcs8_andPkcs1_rsaKeys_areRead_andMatchTheirCertificate() {
    PrivateKey pkcs8 = PemFiles.privateKey(SERVER.keyPem(), "server.key");
    assertTrue(SERVER.keyPem().startsWith("-----BEGIN PRIVATE KEY-----"));
    String pkcs1Pem = DevCertificates.pem(SERVER.keys().getPrivate()); // BouncyCastle writes RSA PRIVATE KEY
    assertTrue(pkcs1Pem.startsWith("-----BEGIN RSA PRIVATE KEY-----"), pkcs1Pem.substring(0, 40));
    PrivateKey pkcs1 = PemFiles.privateKey(pkcs1Pem, "server.key");
    assertEquals(pkcs8, pkcs1);
    PemFiles.requireMatch(pkcs1, SERVER.certificate(), "server.key");
  }

  @Test
  void ecKey_isRead() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(256);
    KeyPair ec = g.generateKeyPair();
    // SEC1 as openssl writes it: the curve named inside the key
    var pki = org.bouncycastle.asn1.pkcs.PrivateKeyInfo.getInstance(ec.getPrivate().getEncoded());
    var inner = org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(pki.parsePrivateKey());
    var sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(256, inner.getKey(),
        pki.getPrivateKeyAlgorithm().getParameters());
    String sec1Pem = DevCertificates.pem(new org.bouncycastle.util.io.pem.PemObject("EC PRIVATE KEY",
        sec1.getEncoded()));
    java.math.BigInteger d = ((java.security.interfaces.ECPrivateKey) ec.getPrivate()).getS();
    assertEquals(d, ((java.security.interfaces.ECPrivateKey) PemFiles.privateKey(sec1Pem, "ec.key")).getS());
    String pkcs8 = DevCertificates.pem(new JcaPKCS8Generator(ec.getPrivate(), null));
    assertEquals(d, ((java.security.interfaces.ECPrivateKey) PemFiles.privateKey(pkcs8, "ec.key")).getS());
  }

  @Test
  void encryptedKey_refused_sayingWhatToDo() throws Exception {
    OutputEncryptor enc = new JceOpenSSLPKCS8EncryptorBuilder(JcaPKCS8Generator.AES_256_CBC)
        .setProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider()).setPassword("pw".toCharArray()).build();
    String pem = DevCertificates.pem(new JcaPKCS8Generator(SERVER.keys().getPrivate(), enc));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PemFiles.privateKey(pem, "/etc/enc.key"));
    assertTrue(e.getMessage().contains("/etc/enc.key") && e.getMessage().contains("encrypted"), e.getMessage());
  }

  @Test
  void garbage_refused_withoutQuotingIt() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PemFiles.privateKey("-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n", "k"));
    assertTrue(!e.getMessage().contains("c2VjcmV0"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> PemFiles.certificates("not a certificate", "c"));
  }

  @Test
  void keyOfAnotherCertificate_refused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PemFiles.requireMatch(CA.keys().getPrivate(), SERVER.certificate(), "server.key"));
    assertTrue(e.getMessage().contains("does not belong"), e.getMessage());
  }
}
