package dev.shardserve.gateway.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engines Akka HTTP gets from {@link TlsContext}, driven in memory against a JDK client engine
 * the way Akka's TLS stage can drive them: the client's Finished and its first request arrive
 * together and are both unwrapped before the server wraps what its TLS 1.3 handshake still has to
 * send. The unwrap that decrypts the request must not report {@code NEED_WRAP}: on that status
 * akka-stream 2.6.21's TLSActor keeps the request and never passes it on (the connection hangs;
 * see {@link StallFreeServerEngine}).
 */
class TlsContextTest {
  private static final String REQUEST = "GET /v2/health/live HTTP/1.1\r\nHost: localhost\r\n\r\n";

  @TempDir Path dir;

  @Test
  void mutualTls13_requestUnwrappedBeforeThePendingWrap_isReportedSoThatAkkaPassesItOn() throws Exception {
    DevCertificates.Issued ca = DevCertificates.certificateAuthority("test CA", Duration.ofDays(1));
    DevCertificates.Issued client = DevCertificates.issue(ca, "client", List.of(), DevCertificates.Usage.CLIENT,
        Duration.ofDays(1));
    SSLEngine server = context(ca, true).newAkkaServerEngine();
    requestWithTheClientsFinished(server, ca, client);
    assertEquals("CN=client", server.getSession().getPeerPrincipal().getName());
  }

  @Test
  void tls13_requestUnwrappedBeforeThePendingWrap_isReportedSoThatAkkaPassesItOn() throws Exception {
    DevCertificates.Issued ca = DevCertificates.certificateAuthority("test CA", Duration.ofDays(1));
    requestWithTheClientsFinished(context(ca, false).newAkkaServerEngine(), ca, null);
  }

  @Test
  void theJdkEngineAlone_reportsNeedWrap_theStatusAkkaStallsOn() throws Exception {
    DevCertificates.Issued ca = DevCertificates.certificateAuthority("test CA", Duration.ofDays(1));
    SSLEngineResult r = unwrapRequestBeforeWrapping(context(ca, false).newServerEngine(), ca, null);
    assertEquals(HandshakeStatus.NEED_WRAP, r.getHandshakeStatus(), "the JDK changed: is the wrapper still needed?");
  }

  @Test
  void otherResults_arePassedOnAsTheyAre() {
    SSLEngineResult handshake = new SSLEngineResult(SSLEngineResult.Status.OK, HandshakeStatus.NEED_WRAP, 100, 0);
    assertTrue(handshake == StallFreeServerEngine.reported(handshake));
    SSLEngineResult data = new SSLEngineResult(SSLEngineResult.Status.OK, HandshakeStatus.NOT_HANDSHAKING, 100, 50);
    assertTrue(data == StallFreeServerEngine.reported(data));
    SSLEngineResult overflow = new SSLEngineResult(SSLEngineResult.Status.BUFFER_OVERFLOW, HandshakeStatus.NEED_WRAP,
        0, 0);
    assertTrue(overflow == StallFreeServerEngine.reported(overflow));
  }

  private TlsContext context(DevCertificates.Issued ca, boolean mutual) throws Exception {
    SecureListenerTest.writeServer(ca, dir.resolve("server.crt"), dir.resolve("server.key"));
    Files.writeString(dir.resolve("ca.crt"), ca.certificatePem());
    TlsSettings defaults = TlsSettings.fromConfig(ConfigFactory.parseString(
        "tls { cert-file = x, key-file = y, client-ca-file = \"\" }").withFallback(
            ConfigFactory.load().getConfig("shardserve.security")));
    return TlsContext.create(new TlsSettings(dir.resolve("server.crt"), dir.resolve("server.key"),
        mutual ? dir.resolve("ca.crt") : null, defaults.protocols(), defaults.cipherSuites()));
  }

  /** The request is decrypted, reported without NEED_WRAP, and the server's pending wrap still finishes the handshake. */
  private static void requestWithTheClientsFinished(SSLEngine server, DevCertificates.Issued ca,
      DevCertificates.Issued clientCert) throws Exception {
    SSLEngineResult r = unwrapRequestBeforeWrapping(server, ca, clientCert);
    assertNotEquals(HandshakeStatus.NEED_WRAP, r.getHandshakeStatus(), r.toString());
    assertEquals(HandshakeStatus.NEED_WRAP, server.getHandshakeStatus(), "the pending wrap is still asked for");
    ByteBuffer out = ByteBuffer.allocate(1 << 17);
    HandshakeStatus last = null;
    for (int i = 0; i < 10 && server.getHandshakeStatus() == HandshakeStatus.NEED_WRAP; i++) {
      last = server.wrap(ByteBuffer.allocate(0), out).getHandshakeStatus();
      runTasks(server);
    }
    assertEquals(HandshakeStatus.FINISHED, last);
    assertEquals(HandshakeStatus.NOT_HANDSHAKING, server.getHandshakeStatus());
    assertEquals("TLSv1.3", server.getSession().getProtocol());
  }

  /**
   * Runs a TLS 1.3 handshake until the client has sent its Finished, then has the client send the
   * request, and the server unwrap all of it without wrapping: the result of the unwrap that
   * decrypted the request.
   */
  private static SSLEngineResult unwrapRequestBeforeWrapping(SSLEngine server, DevCertificates.Issued ca,
      DevCertificates.Issued clientCert) throws Exception {
    SSLEngine client = SecureListenerTest.client(ca, clientCert).createSSLEngine("localhost", 443);
    client.setUseClientMode(true);
    ByteBuffer toServer = ByteBuffer.allocate(1 << 17);
    ByteBuffer toClient = ByteBuffer.allocate(1 << 17);
    ByteBuffer none = ByteBuffer.allocate(0);
    client.beginHandshake();
    server.beginHandshake();
    boolean clientDone = false;
    for (int step = 0; step < 200 && !clientDone; step++) {
      HandshakeStatus c = client.getHandshakeStatus();
      if (c == HandshakeStatus.NEED_TASK) {
        runTasks(client);
      } else if (c == HandshakeStatus.NEED_WRAP) {
        clientDone = client.wrap(none, toServer).getHandshakeStatus() == HandshakeStatus.FINISHED;
      } else if (c == HandshakeStatus.NEED_UNWRAP && toClient.position() > 0) {
        toClient.flip();
        client.unwrap(toClient, ByteBuffer.allocate(1 << 17));
        toClient.compact();
      }
      if (clientDone) {
        break;
      }
      HandshakeStatus s = server.getHandshakeStatus();
      if (s == HandshakeStatus.NEED_TASK) {
        runTasks(server);
      } else if (s == HandshakeStatus.NEED_WRAP) {
        server.wrap(none, toClient);
      } else if (s == HandshakeStatus.NEED_UNWRAP && toServer.position() > 0) {
        toServer.flip();
        server.unwrap(toServer, ByteBuffer.allocate(1 << 17));
        toServer.compact();
      }
    }
    assertTrue(clientDone, "the client never finished its handshake");
    assertEquals(SSLEngineResult.Status.OK,
        client.wrap(ByteBuffer.wrap(REQUEST.getBytes(StandardCharsets.US_ASCII)), toServer).getStatus());
    toServer.flip();
    ByteBuffer plain = ByteBuffer.allocate(1 << 17);
    SSLEngineResult request = null;
    while (toServer.hasRemaining()) {
      SSLEngineResult r = server.unwrap(toServer, plain);
      runTasks(server);
      assertEquals(SSLEngineResult.Status.OK, r.getStatus());
      assertTrue(r.bytesConsumed() > 0, "the server engine made no progress");
      if (r.bytesProduced() > 0) {
        request = r;
      }
    }
    assertNotNull(request, "the request was not decrypted");
    plain.flip();
    assertEquals(REQUEST, StandardCharsets.US_ASCII.decode(plain).toString());
    return request;
  }

  private static void runTasks(SSLEngine e) {
    for (Runnable t = e.getDelegatedTask(); t != null; t = e.getDelegatedTask()) {
      t.run();
    }
  }
}
