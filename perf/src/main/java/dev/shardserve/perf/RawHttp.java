package dev.shardserve.perf;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * One persistent HTTP/1.1 connection that sends a prepared request again and again and reads
 * each response's status and body length. Deliberately minimal: a load generator that spends
 * little CPU leaves the machine's cores to the server under test (on 2 cores, the JDK's
 * HttpClient cost as much CPU per request as a small model's whole inference).
 */
final class RawHttp implements AutoCloseable {
  private final String host;
  private final int port;
  private final byte[] request;
  private Socket socket;
  private OutputStream out;
  private InputStream in;

  /** A response: its status and, for errors, the body text (else null). */
  record Response(int status, String body) {}

  /**
   * A request to send again and again, to whichever port.
   *
   * @param headers header lines besides Host and Content-Length, each ending in CRLF (a JSON
   *     request: {@code Content-Type: application/json}; Triton's binary requests: none)
   */
  record Request(String method, String path, byte[] body, String headers) {
    static Request predict(String model, byte[] body) {
      return new Request("POST", "/v1/models/" + model + ":predict", body, "Content-Type: application/json\r\n");
    }

    RawHttp connect(int port) {
      return new RawHttp("127.0.0.1", port, method, path, body, headers);
    }
  }

  RawHttp(String host, int port, String method, String path, byte[] body) {
    this(host, port, method, path, body, "Content-Type: application/json\r\n");
  }

  RawHttp(String host, int port, String method, String path, byte[] body, String headers) {
    this.host = host;
    this.port = port;
    String head = method + " " + path + " HTTP/1.1\r\nHost: " + host + ":" + port
        + "\r\n" + headers + "Content-Length: " + body.length + "\r\n\r\n";
    byte[] h = head.getBytes(StandardCharsets.US_ASCII);
    this.request = new byte[h.length + body.length];
    System.arraycopy(h, 0, request, 0, h.length);
    System.arraycopy(body, 0, request, h.length, body.length);
  }

  /** Sends the request and reads the response; reconnects once if the connection was closed. */
  Response send() throws IOException {
    for (int attempt = 0; ; attempt++) {
      try {
        if (socket == null) {
          connect();
        }
        out.write(request);
        out.flush();
        return read();
      } catch (IOException e) {
        close();
        if (attempt > 0) {
          throw e;
        }
      }
    }
  }

  private void connect() throws IOException {
    socket = new Socket();
    socket.setTcpNoDelay(true);
    socket.connect(new InetSocketAddress(host, port), 10_000);
    socket.setSoTimeout(120_000);
    out = socket.getOutputStream();
    in = new BufferedInputStream(socket.getInputStream(), 65536);
  }

  private Response read() throws IOException {
    String status = line();
    if (status == null) {
      throw new IOException("connection closed");
    }
    int code = Integer.parseInt(status.substring(9, 12));
    int length = -1;
    boolean close = false;
    for (String h; !(h = line()).isEmpty(); ) {
      int colon = h.indexOf(':');
      String name = h.substring(0, colon).trim();
      if (name.equalsIgnoreCase("Content-Length")) {
        length = Integer.parseInt(h.substring(colon + 1).trim());
      } else if (name.equalsIgnoreCase("Connection") && h.substring(colon + 1).trim().equalsIgnoreCase("close")) {
        close = true;
      }
    }
    if (length < 0) {
      throw new IOException("response without Content-Length");
    }
    byte[] body = in.readNBytes(length);
    if (body.length != length) {
      throw new IOException("connection closed in a body");
    }
    if (close) {
      close();
    }
    return new Response(code, code == 200 ? null : new String(body, StandardCharsets.UTF_8));
  }

  private String line() throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int c; (c = in.read()) != -1; ) {
      if (c == '\n') {
        int n = sb.length();
        return n > 0 && sb.charAt(n - 1) == '\r' ? sb.substring(0, n - 1) : sb.toString();
      }
      sb.append((char) c);
    }
    return sb.length() == 0 ? null : sb.toString();
  }

  @Override
  public void close() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException e) {
        // closing anyway
      }
      socket = null;
    }
  }
}
