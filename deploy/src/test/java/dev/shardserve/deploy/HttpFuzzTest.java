package dev.shardserve.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shardserve.node.examples.HalfPlusTwoModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP-level fuzzing of a live standalone server (in this JVM, ephemeral ports): 10,000 requests
 * mutated from valid ones (methods, paths, headers, bodies), written as raw bytes so that nothing
 * a client library would fix up is fixed up. The server must never answer 5xx other than 503 and
 * 504, must keep answering a valid predict throughout, and its heap must stay bounded. The seed is
 * fixed: a failure replays.
 */
class HttpFuzzTest {
  static final long SEED = 16;
  static final int REQUESTS = 10_000;
  static final int THREADS = 4;
  static final String PREDICT = "/v1/models/half_plus_two:predict";
  static final String[] METHODS = {"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE", "FOO",
      "post", "G\u00c9T", ""};
  static final String[] PATHS = {PREDICT, "/v1/models/half_plus_two", "/v1/models/half_plus_two/metadata",
      "/v1/models/half_plus_two/versions/1:predict", "/v1/models/half_plus_two/labels/stable:classify",
      "/v1/models/half_plus_two:regress", "/v1/models/missing:predict", "/v2/health/live", "/v2/models/m/infer",
      "/v1/models/..:predict", "/", "*", "/admin/models"};
  static final String[] BODIES = {"{\"instances\": [1.0, 2.0, 5.0]}", "{\"inputs\": [[1.0], [2.0]]}",
      "{\"signature_name\": \"serving_default\", \"instances\": [[1.0, 2.0]]}",
      "{\"examples\": [{\"x\": 1.0}, {\"x\": [2, 3]}], \"context\": {\"c\": \"s\"}}",
      "{\"inputs\": {\"x\": [NaN, Infinity, -1e308, 1e-320]}}", "{\"instances\": [{\"b64\": \"AAE=\"}]}", ""};
  static final String[] CONTENT_TYPES = {"application/json", "text/plain", "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x", "application/json; charset=utf-16", "*/*", "\u00ff/\u00ff", ""};

  @TempDir static Path repo;
  static InProcessServer server;

  @BeforeAll
  static void start() {
    HalfPlusTwoModel.write(repo.resolve("half_plus_two/1"));
    server = new InProcessServer(repo, Map.of("shardserve.gateway.max-request-bytes", "256 KiB"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void tenThousandMutatedRequests_noServerErrors_serverKeepsAnswering_heapBounded() throws Exception {
    assertEquals(200, send(valid()).status(), "the server answers before fuzzing");
    long heapBefore = usedHeapAfterGc();
    Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
    List<String> serverErrors = new ArrayList<>();
    AtomicInteger noAnswer = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    long started = System.nanoTime();
    List<Future<?>> done = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      Random random = new Random(SEED * 31 + t);
      done.add(pool.submit(() -> {
        for (int i = 0; i < REQUESTS / THREADS; i++) {
          byte[] request = mutate(random);
          Answer a = send(request);
          if (a.status() < 0) {
            noAnswer.incrementAndGet();
          } else {
            statuses.computeIfAbsent(a.status(), s -> new AtomicInteger()).incrementAndGet();
            if (a.status() >= 500 && a.status() != 503 && a.status() != 504) {
              synchronized (serverErrors) {
                serverErrors.add(a.status() + " for " + printable(request) + " -> " + a.head());
              }
            }
          }
          if (i % 250 == 0) {
            Answer probe = send(valid());
            if (probe.status() != 200) {
              synchronized (serverErrors) {
                serverErrors.add("valid predict answered " + probe.status() + " after " + i + " requests");
              }
            }
          }
        }
        return null;
      }));
    }
    for (Future<?> f : done) {
      f.get(5, TimeUnit.MINUTES);
    }
    pool.shutdown();
    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
    long heapAfter = usedHeapAfterGc();
    System.out.println("HTTP fuzz: " + REQUESTS + " requests in " + seconds + " s, statuses " + new TreeMap<>(statuses)
        + ", no answer " + noAnswer + ", heap after GC " + heapBefore / 1024 / 1024 + " -> "
        + heapAfter / 1024 / 1024 + " MiB");
    assertTrue(serverErrors.isEmpty(), serverErrors.size() + " server errors, first: "
        + serverErrors.subList(0, Math.min(5, serverErrors.size())));
    assertEquals(200, send(valid()).status(), "the server still answers after fuzzing");
    assertTrue(heapAfter - heapBefore < 64L << 20, "heap grew from " + heapBefore + " to " + heapAfter);
  }

  @Test
  void unknownMethodOrGarbledRequestLine_is400WithJsonError_not501Or505() {
    Answer method = send(request("FOO", PREDICT, List.of(), new byte[0]));
    assertEquals(400, method.status(), method.head());
    Answer version = send("GET /v1/models/a b HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    assertEquals(400, version.status(), version.head());
  }

  record Answer(int status, String head) {}

  static byte[] valid() {
    return request("POST", PREDICT, List.of("Content-Type: application/json"),
        BODIES[0].getBytes(StandardCharsets.UTF_8));
  }

  static byte[] mutate(Random r) {
    String method = r.nextInt(4) == 0 ? METHODS[r.nextInt(METHODS.length)] : r.nextBoolean() ? "POST" : "GET";
    String path = mutateText(r, PATHS[r.nextInt(PATHS.length)], 3);
    List<String> headers = new ArrayList<>();
    if (r.nextInt(3) > 0) {
      headers.add("Content-Type: " + CONTENT_TYPES[r.nextInt(CONTENT_TYPES.length)]);
    }
    if (r.nextInt(5) == 0) {
      headers.add("X-Request-Timeout-Ms: " + List.of("1", "0", "-5", "99999999999999999999", "abc", "", "30000")
          .get(r.nextInt(7)));
    }
    if (r.nextInt(6) == 0) {
      headers.add(mutateText(r, "X-Fuzz: value", 2));
    }
    if (r.nextInt(10) == 0) {
      headers.add(List.of("Authorization: Bearer a.b.c", "X-API-Key: k", "Origin: http://evil.example",
          "Transfer-Encoding: gzip", "Expect: 100-continue", "Content-Encoding: gzip").get(r.nextInt(6)));
    }
    byte[] body = mutateBytes(r, BODIES[r.nextInt(BODIES.length)].getBytes(StandardCharsets.UTF_8));
    if (r.nextInt(50) == 0) {
      body = bigBody(r);
    }
    return request(method, path, headers, body);
  }

  static byte[] request(String method, String path, List<String> headers, byte[] body) {
    StringBuilder head = new StringBuilder().append(method).append(' ').append(path).append(" HTTP/1.1\r\n")
        .append("Host: 127.0.0.1\r\nConnection: close\r\nContent-Length: ").append(body.length).append("\r\n");
    for (String h : headers) {
      head.append(h).append("\r\n");
    }
    head.append("\r\n");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(head.toString().getBytes(StandardCharsets.UTF_8));
    out.writeBytes(body);
    return out.toByteArray();
  }

  static String mutateText(Random r, String s, int maxEdits) {
    StringBuilder b = new StringBuilder(s);
    int edits = r.nextInt(maxEdits + 1);
    String specials = "/:.%?#;=&+ \u00e9\u2603\\~";
    for (int e = 0; e < edits; e++) {
      int at = b.length() == 0 ? 0 : r.nextInt(b.length());
      switch (r.nextInt(5)) {
        case 0 -> b.insert(at, specials.charAt(r.nextInt(specials.length())));
        case 1 -> {
          if (b.length() > 0) {
            b.deleteCharAt(at);
          }
        }
        case 2 -> b.insert(at, "/..");
        case 3 -> b.insert(at, "%" + Integer.toHexString(r.nextInt(256)));
        default -> b.insert(at, "a".repeat(1 + r.nextInt(300)));
      }
    }
    return b.toString();
  }

  static byte[] mutateBytes(Random r, byte[] seed) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(seed);
    byte[] b = out.toByteArray();
    int edits = r.nextInt(4);
    for (int e = 0; e < edits && b.length > 0; e++) {
      int at = r.nextInt(b.length);
      switch (r.nextInt(5)) {
        case 0 -> b[at] = (byte) r.nextInt(256);
        case 1 -> b = java.util.Arrays.copyOf(b, at); // truncate
        case 2 -> {
          byte[] token = List.of("[", "]", "{", "}", ",", "\"", "1e999999", "-0", "null", "[[[[[[[[[[", "\\u0000")
              .get(r.nextInt(11)).getBytes(StandardCharsets.UTF_8);
          ByteArrayOutputStream o = new ByteArrayOutputStream();
          o.write(b, 0, at);
          o.writeBytes(token);
          o.write(b, at, b.length - at);
          b = o.toByteArray();
        }
        case 3 -> {
          ByteArrayOutputStream o = new ByteArrayOutputStream();
          o.writeBytes(b);
          o.write(b, 0, at); // duplicate a prefix
          b = o.toByteArray();
        }
        default -> {
          byte[] noise = new byte[1 + r.nextInt(32)];
          r.nextBytes(noise);
          ByteArrayOutputStream o = new ByteArrayOutputStream();
          o.write(b, 0, at);
          o.writeBytes(noise);
          o.write(b, at, b.length - at);
          b = o.toByteArray();
        }
      }
    }
    return b;
  }

  /** About 100-300 KiB: many numbers, deep nesting, or many empty examples (near and over the 256 KiB limit). */
  static byte[] bigBody(Random r) {
    StringBuilder s = new StringBuilder();
    switch (r.nextInt(3)) {
      case 0 -> {
        s.append("{\"instances\": [");
        int n = 20_000 + r.nextInt(40_000);
        for (int i = 0; i < n; i++) {
          s.append(i == 0 ? "" : ",").append(r.nextInt(1000)).append(".5");
        }
        s.append("]}");
      }
      case 1 -> s.append("{\"instances\": ").append("[".repeat(50_000 + r.nextInt(100_000))).append("1");
      default -> {
        s.append("{\"context\": {\"c\": [").append("1,".repeat(10_000)).append("1]}, \"examples\": [");
        int n = 20_000 + r.nextInt(20_000);
        for (int i = 0; i < n; i++) {
          s.append(i == 0 ? "{}" : ",{}");
        }
        s.append("]}");
      }
    }
    return s.toString().getBytes(StandardCharsets.UTF_8);
  }

  static Answer send(byte[] request) {
    try (Socket s = new Socket("127.0.0.1", server.port)) {
      s.setSoTimeout(20_000);
      s.getOutputStream().write(request);
      s.getOutputStream().flush();
      byte[] head = readHead(s.getInputStream());
      String text = new String(head, StandardCharsets.ISO_8859_1);
      if (!text.startsWith("HTTP/1.1 ") || text.length() < 12) {
        return new Answer(-1, text);
      }
      return new Answer(Integer.parseInt(text.substring(9, 12)), text.lines().findFirst().orElse(""));
    } catch (IOException | NumberFormatException e) {
      return new Answer(-1, e.toString());
    }
  }

  /** The answer's first bytes (its status line), then the rest is drained until the server closes. */
  private static byte[] readHead(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    int n;
    while ((n = in.read(buf)) > 0) {
      if (out.size() < 512) {
        out.write(buf, 0, Math.min(n, 512 - out.size()));
      }
    }
    return out.toByteArray();
  }

  private static long usedHeapAfterGc() {
    MemoryMXBean m = ManagementFactory.getMemoryMXBean();
    m.gc();
    return m.getHeapMemoryUsage().getUsed();
  }

  private static String printable(byte[] request) {
    String s = new String(request, 0, Math.min(request.length, 300), StandardCharsets.ISO_8859_1);
    return s.replace("\r\n", "\\r\\n");
  }

}
