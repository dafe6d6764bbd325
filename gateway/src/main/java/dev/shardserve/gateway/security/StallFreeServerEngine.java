package dev.shardserve.gateway.security;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.BiFunction;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;

/**
 * The JDK's server {@link SSLEngine}, with one change to what {@code unwrap} reports, so that
 * Akka's TLS stage (akka-stream 2.6.21's {@code TLSActor}) cannot strand a client's request.
 *
 * <p>After a TLS 1.3 server engine unwraps the client's Finished it still has something to wrap
 * (its NewSessionTicket, or only the FINISHED status), so it reports {@code NEED_WRAP}. When
 * the client's first application record is unwrapped before that wrap happens (it arrived in the
 * same read, or the wrap waits for demand on the TCP side), the engine decrypts it and again
 * reports {@code NEED_WRAP}. The TLSActor keeps the decrypted bytes in its buffer on
 * {@code NEED_WRAP} and, when the following wrap reports FINISHED, lifts its cork without
 * passing them on: they reach the HTTP layer only when the client sends more, and the client is
 * waiting for the answer. The connection hangs (the JDK's HttpClient hit this on about one TLS 1.3
 * connection in five; newer Akka flushes in {@code handshakeFinished}, but 2.6.21 is the last
 * Apache-licensed 2.6 release).
 *
 * <p>So an unwrap that produced application bytes while a wrap is pending reports
 * {@code NOT_HANDSHAKING} instead of {@code NEED_WRAP}: the data is decrypted and authenticated,
 * and the TLSActor then hands it to the HTTP layer. Nothing else changes: {@link
 * #getHandshakeStatus()} still says {@code NEED_WRAP}, which the TLSActor reads right after every
 * unwrap, so the pending wrap (and the FINISHED that releases the answer) still happens.
 */
final class StallFreeServerEngine extends SSLEngine {
  private final SSLEngine engine;

  StallFreeServerEngine(SSLEngine engine) {
    super(engine.getPeerHost(), engine.getPeerPort());
    this.engine = engine;
  }

  /** The result {@code unwrap} reports for the engine's {@code result}. */
  static SSLEngineResult reported(SSLEngineResult result) {
    if (result.getStatus() == SSLEngineResult.Status.OK && result.getHandshakeStatus() == HandshakeStatus.NEED_WRAP
        && result.bytesProduced() > 0) {
      return new SSLEngineResult(result.getStatus(), HandshakeStatus.NOT_HANDSHAKING, result.bytesConsumed(),
          result.bytesProduced());
    }
    return result;
  }

  @Override
  public SSLEngineResult unwrap(ByteBuffer src, ByteBuffer dst) throws SSLException {
    return reported(engine.unwrap(src, dst));
  }

  @Override
  public SSLEngineResult unwrap(ByteBuffer src, ByteBuffer[] dsts) throws SSLException {
    return reported(engine.unwrap(src, dsts));
  }

  @Override
  public SSLEngineResult unwrap(ByteBuffer src, ByteBuffer[] dsts, int offset, int length) throws SSLException {
    return reported(engine.unwrap(src, dsts, offset, length));
  }

  @Override
  public SSLEngineResult wrap(ByteBuffer src, ByteBuffer dst) throws SSLException {
    return engine.wrap(src, dst);
  }

  @Override
  public SSLEngineResult wrap(ByteBuffer[] srcs, ByteBuffer dst) throws SSLException {
    return engine.wrap(srcs, dst);
  }

  @Override
  public SSLEngineResult wrap(ByteBuffer[] srcs, int offset, int length, ByteBuffer dst) throws SSLException {
    return engine.wrap(srcs, offset, length, dst);
  }

  @Override
  public Runnable getDelegatedTask() {
    return engine.getDelegatedTask();
  }

  @Override
  public void closeInbound() throws SSLException {
    engine.closeInbound();
  }

  @Override
  public boolean isInboundDone() {
    return engine.isInboundDone();
  }

  @Override
  public void closeOutbound() {
    engine.closeOutbound();
  }

  @Override
  public boolean isOutboundDone() {
    return engine.isOutboundDone();
  }

  @Override
  public String[] getSupportedCipherSuites() {
    return engine.getSupportedCipherSuites();
  }

  @Override
  public String[] getEnabledCipherSuites() {
    return engine.getEnabledCipherSuites();
  }

  @Override
  public void setEnabledCipherSuites(String[] suites) {
    engine.setEnabledCipherSuites(suites);
  }

  @Override
  public String[] getSupportedProtocols() {
    return engine.getSupportedProtocols();
  }

  @Override
  public String[] getEnabledProtocols() {
    return engine.getEnabledProtocols();
  }

  @Override
  public void setEnabledProtocols(String[] protocols) {
    engine.setEnabledProtocols(protocols);
  }

  @Override
  public SSLSession getSession() {
    return engine.getSession();
  }

  @Override
  public SSLSession getHandshakeSession() {
    return engine.getHandshakeSession();
  }

  @Override
  public void beginHandshake() throws SSLException {
    engine.beginHandshake();
  }

  @Override
  public HandshakeStatus getHandshakeStatus() {
    return engine.getHandshakeStatus();
  }

  @Override
  public void setUseClientMode(boolean mode) {
    engine.setUseClientMode(mode);
  }

  @Override
  public boolean getUseClientMode() {
    return engine.getUseClientMode();
  }

  @Override
  public void setNeedClientAuth(boolean need) {
    engine.setNeedClientAuth(need);
  }

  @Override
  public boolean getNeedClientAuth() {
    return engine.getNeedClientAuth();
  }

  @Override
  public void setWantClientAuth(boolean want) {
    engine.setWantClientAuth(want);
  }

  @Override
  public boolean getWantClientAuth() {
    return engine.getWantClientAuth();
  }

  @Override
  public void setEnableSessionCreation(boolean flag) {
    engine.setEnableSessionCreation(flag);
  }

  @Override
  public boolean getEnableSessionCreation() {
    return engine.getEnableSessionCreation();
  }

  @Override
  public SSLParameters getSSLParameters() {
    return engine.getSSLParameters();
  }

  @Override
  public void setSSLParameters(SSLParameters params) {
    engine.setSSLParameters(params);
  }

  @Override
  public String getApplicationProtocol() {
    return engine.getApplicationProtocol();
  }

  @Override
  public String getHandshakeApplicationProtocol() {
    return engine.getHandshakeApplicationProtocol();
  }

  @Override
  public void setHandshakeApplicationProtocolSelector(BiFunction<SSLEngine, List<String>, String> selector) {
    engine.setHandshakeApplicationProtocolSelector(selector);
  }

  @Override
  public BiFunction<SSLEngine, List<String>, String> getHandshakeApplicationProtocolSelector() {
    return engine.getHandshakeApplicationProtocolSelector();
  }

  @Override
  public String toString() {
    return engine.toString();
  }
}
