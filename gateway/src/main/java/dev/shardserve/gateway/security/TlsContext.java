package dev.shardserve.gateway.security;

import akka.http.javadsl.ConnectionContext;
import akka.http.javadsl.HttpsConnectionContext;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The server TLS of every HTTP listener (and the gRPC port): one {@link SSLContext} whose key
 * manager (and client-CA trust manager, for mutual TLS) re-read their files when they change, and
 * server engines restricted to the configured protocols (TLS 1.2 and 1.3) and cipher suites. With
 * a client CA, a client without a certificate it issued cannot complete the handshake. A
 * plain-HTTP request to such a port fails the handshake: nothing is served. Akka HTTP gets its
 * engines wrapped in {@link StallFreeServerEngine}, which keeps its TLS stage from stranding a
 * client's first request after a TLS 1.3 handshake.
 */
public final class TlsContext {
  private final TlsSettings settings;
  private final ReloadingKeyManager keyManager;
  private final ReloadingTrustManager trustManager;
  private final SSLContext context;
  private final String[] protocols;
  private final String[] cipherSuites;

  private TlsContext(TlsSettings settings) {
    this.settings = settings;
    this.keyManager = new ReloadingKeyManager(settings.certFile(), settings.keyFile());
    this.trustManager = settings.clientCaFile() == null ? null : new ReloadingTrustManager(settings.clientCaFile());
    try {
      context = SSLContext.getInstance("TLS");
      context.init(new KeyManager[] {keyManager}, trustManager == null ? null : new TrustManager[] {trustManager},
          null);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot create a TLS context: " + e.getMessage(), e);
    }
    Set<String> supported = Set.of(context.getSupportedSSLParameters().getCipherSuites());
    this.cipherSuites = settings.cipherSuites().stream().filter(supported::contains).toArray(String[]::new);
    if (cipherSuites.length == 0) {
      throw new IllegalArgumentException("none of shardserve.security.tls.cipher-suites " + settings.cipherSuites()
          + " is supported by this JDK");
    }
    this.protocols = settings.protocols().toArray(new String[0]);
  }

  /** Reads the certificate, key and client CA files now; a bad file throws IllegalArgumentException naming it. */
  public static TlsContext create(TlsSettings settings) {
    return new TlsContext(settings);
  }

  /** A server engine with this context's protocols, ciphers and client authentication. */
  public SSLEngine newServerEngine() {
    SSLEngine engine = context.createSSLEngine();
    engine.setUseClientMode(false);
    SSLParameters p = engine.getSSLParameters();
    p.setProtocols(protocols);
    p.setCipherSuites(cipherSuites);
    p.setUseCipherSuitesOrder(true);
    if (trustManager != null) {
      p.setNeedClientAuth(true);
    }
    engine.setSSLParameters(p);
    return engine;
  }

  /** For Akka HTTP's {@code ServerBuilder.enableHttps}: server engines Akka's TLS stage cannot stall on. */
  public HttpsConnectionContext httpsContext() {
    return ConnectionContext.httpsServer(this::newAkkaServerEngine);
  }

  /** A {@link #newServerEngine()} for Akka's TLS stage (see {@link StallFreeServerEngine}). */
  SSLEngine newAkkaServerEngine() {
    return new StallFreeServerEngine(newServerEngine());
  }

  /** The reloading key manager, for servers that build their own TLS (gRPC's Netty). */
  public X509ExtendedKeyManager keyManager() {
    return keyManager;
  }

  /** The reloading client-CA trust manager, or null without mutual TLS. */
  public X509ExtendedTrustManager clientTrustManager() {
    return trustManager;
  }

  public List<String> protocols() {
    return Arrays.asList(protocols);
  }

  public List<String> cipherSuites() {
    return Arrays.asList(cipherSuites);
  }

  public boolean mutual() {
    return trustManager != null;
  }

  public TlsSettings settings() {
    return settings;
  }

  X509Certificate served() {
    return keyManager.served();
  }

  /** Re-reads changed certificate, key and CA files (the reload schedule calls this). */
  void refresh() {
    keyManager.refresh();
    if (trustManager != null) {
      trustManager.refresh();
    }
  }
}
