package dev.shardserve.gateway.security;

import java.net.Socket;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * The server's key manager: every handshake asks the one built from the current certificate and
 * key files, so a rotated certificate is served from the next handshake on without a restart.
 * A rotation whose key does not match its certificate (files half written) is refused and the
 * previous pair keeps serving.
 */
final class ReloadingKeyManager extends X509ExtendedKeyManager {
  private record Material(X509ExtendedKeyManager keyManager, X509Certificate leaf) {}

  private final WatchedFile<Material> current;

  ReloadingKeyManager(java.nio.file.Path certFile, java.nio.file.Path keyFile) {
    this.current = new WatchedFile<>("TLS certificate", List.of(certFile, keyFile),
        texts -> build(texts.get(0), texts.get(1), certFile, keyFile));
  }

  private static Material build(String certPem, String keyPem, java.nio.file.Path certFile,
      java.nio.file.Path keyFile) {
    List<X509Certificate> chain = PemFiles.certificates(certPem, certFile.toString());
    PrivateKey key = PemFiles.privateKey(keyPem, keyFile.toString());
    PemFiles.requireMatch(key, chain.get(0), keyFile.toString());
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      char[] password = new char[0];
      ks.setKeyEntry("server", key, password, chain.toArray(new X509Certificate[0]));
      KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
      kmf.init(ks, password);
      for (KeyManager km : kmf.getKeyManagers()) {
        if (km instanceof X509ExtendedKeyManager x) {
          return new Material(x, chain.get(0));
        }
      }
    } catch (java.security.GeneralSecurityException | java.io.IOException e) {
      throw new IllegalArgumentException("cannot use " + certFile + " and " + keyFile + ": " + e.getMessage(), e);
    }
    throw new IllegalStateException("the JDK's PKIX key manager factory made no X509ExtendedKeyManager");
  }

  boolean refresh() {
    return current.refresh();
  }

  /** The certificate being served now (for tests and logs). */
  X509Certificate served() {
    return current.current().leaf();
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return current.current().keyManager().getClientAliases(keyType, issuers);
  }

  @Override
  public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return current.current().keyManager().chooseClientAlias(keyType, issuers, socket);
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return current.current().keyManager().getServerAliases(keyType, issuers);
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return current.current().keyManager().chooseServerAlias(keyType, issuers, socket);
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return current.current().keyManager().chooseEngineServerAlias(keyType, issuers, engine);
  }

  @Override
  public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
    return current.current().keyManager().chooseEngineClientAlias(keyType, issuers, engine);
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    return current.current().keyManager().getCertificateChain(alias);
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    return current.current().keyManager().getPrivateKey(alias);
  }
}
