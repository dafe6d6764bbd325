package dev.shardserve.perf;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * Closed loop (N clients, each sending its next request when the last is answered) and open loop
 * (requests sent at a constant rate, each latency measured from its <em>intended</em> send time,
 * so a stalled server is not hidden by clients that politely wait: no coordinated omission). A
 * warm-up, then a measured window: the answers that arrive within it are counted, each with its
 * latency from its intended send time; nothing is sent after it. Each worker keeps its own
 * {@link Tally}; they are merged after the window.
 */
final class LoadGenerator {
  /** Told when the measured window opens and closes (e.g. to read the server's CPU time then). */
  interface Window {
    Window NONE = new Window() {};

    default void opened() {}

    default void closed() {}
  }

  private final Supplier<RawHttp> connections;

  LoadGenerator(Supplier<RawHttp> connections) {
    this.connections = connections;
  }

  /** The intended send time of request {@code i} at {@code perSecond} from {@code start} (nanos). */
  static long intended(long start, long i, double perSecond) {
    return start + (long) (i * 1e9 / perSecond);
  }

  LoadResult closed(String name, int clients, double warmupSeconds, double seconds) throws InterruptedException {
    return closed(name, clients, warmupSeconds, seconds, Window.NONE);
  }

  LoadResult closed(String name, int clients, double warmupSeconds, double seconds, Window window)
      throws InterruptedException {
    return run(name, clients, warmupSeconds, seconds, -1, window);
  }

  /** Open loop at {@code perSecond}, with {@code workers} connections to carry it. */
  LoadResult open(String name, double perSecond, int workers, double warmupSeconds, double seconds)
      throws InterruptedException {
    return open(name, perSecond, workers, warmupSeconds, seconds, Window.NONE);
  }

  LoadResult open(String name, double perSecond, int workers, double warmupSeconds, double seconds, Window window)
      throws InterruptedException {
    if (!(perSecond > 0)) {
      throw new IllegalArgumentException("rate must be > 0 requests per second, was " + perSecond);
    }
    return run(name, workers, warmupSeconds, seconds, perSecond, window);
  }

  private LoadResult run(String name, int threads, double warmupSeconds, double seconds, double perSecond,
      Window window) throws InterruptedException {
    if (threads < 1 || !(seconds > 0) || warmupSeconds < 0) {
      throw new IllegalArgumentException("need >= 1 connection, a window > 0 s and a warm-up >= 0 s; got "
          + threads + ", " + seconds + " s, " + warmupSeconds + " s");
    }
    long start = System.nanoTime();
    long measureFrom = start + (long) (warmupSeconds * 1e9);
    long end = measureFrom + (long) (seconds * 1e9);
    AtomicLong next = new AtomicLong();
    List<Tally> tallies = new ArrayList<>();
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Tally tally = new Tally();
      tallies.add(tally);
      Thread w = new Thread(() -> work(tally, start, measureFrom, end, perSecond, next), "load-" + t);
      w.setDaemon(true);
      workers.add(w);
    }
    Thread timer = new Thread(() -> {
      parkUntil(measureFrom);
      window.opened();
      parkUntil(end);
      window.closed();
    }, "load-window");
    timer.setDaemon(true);
    timer.start();
    workers.forEach(Thread::start);
    for (Thread w : workers) {
      w.join();
    }
    timer.join();
    return Tally.merge(tallies).toResult(name, seconds);
  }

  private void work(Tally tally, long start, long measureFrom, long end, double perSecond, AtomicLong next) {
    try (RawHttp http = connections.get()) {
      while (true) {
        long sendAt;
        if (perSecond > 0) {
          sendAt = intended(start, next.getAndIncrement(), perSecond);
          if (sendAt - end >= 0) {
            return;
          }
          parkUntil(sendAt);
        } else {
          sendAt = System.nanoTime();
        }
        long actual = System.nanoTime();
        if (actual - end >= 0) {
          return; // an open loop that fell behind sends nothing after the window
        }
        if (actual - measureFrom >= 0) {
          tally.sent++;
        }
        int status;
        try {
          status = http.send().status();
        } catch (IOException e) {
          status = -1;
        }
        long done = System.nanoTime();
        // Every answer that arrives within the window counts (what the server delivered then),
        // its latency taken from its intended send time, even if that was during the warm-up.
        if (done - measureFrom >= 0 && done - end <= 0) {
          tally.record(status, (done - sendAt) / 1000, (done - actual) / 1000);
        }
      }
    }
  }

  private static void parkUntil(long nanoTime) {
    for (long wait; (wait = nanoTime - System.nanoTime()) > 0; ) {
      LockSupport.parkNanos(wait);
    }
  }
}
