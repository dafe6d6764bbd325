package dev.shardserve.deploy;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** HTTP calls of the load the failover tests send. */
final class Http {
  private Http() {}

  /**
   * Sends {@code request} and waits for its answer at most {@code timeout}, measured on the
   * monotonic clock ({@link CompletableFuture#get(long, TimeUnit)}). Not the request's own
   * {@code timeout(...)}: JDK 17's HttpClient times requests out by the wall clock
   * ({@code Instant.now()}), and a step of the VM's clock (seen in CI: a request "timed out" after
   * 9.4 s of a 30 s timeout, while the JVM's heartbeats report a 6 s pause) would count as a
   * request the server failed.
   */
  static HttpResponse<String> send(HttpClient client, HttpRequest request, Duration timeout) throws Exception {
    CompletableFuture<HttpResponse<String>> f = client.sendAsync(request, HttpResponse.BodyHandlers.ofString());
    try {
      return f.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new HttpTimeoutException("no answer within " + timeout.toMillis() + " ms (monotonic clock)");
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception c ? c : e;
    }
  }
}
