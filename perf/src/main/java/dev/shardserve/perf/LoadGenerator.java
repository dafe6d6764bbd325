package dev.shardserve.perf;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Closed loop (N clients, each sending its next request when the last is answered) and open loop
 * (requests sent at a constant rate, each latency measured from its <em>intended</em> send time,
 * so a stalled server is not hidden by clients that politely wait: no coordinated omission). A
 * warm-up, then a measured window; requests still in flight at its end are not counted.
 */
final class LoadGenerator {
  private final Supplier<RawHttp> connections;

  LoadGenerator(Supplier<RawHttp> connections) {
    this.connections = connections;
  }

  /** The intended send time of request {@code i} at {@code perSecond} from {@code start} (nanos). */
  static long intended(long start, long i, double perSecond) {
    return start + (long) (i * 1e9 / perSecond);
  }

  LoadResult closed(String name, int clients, double warmupSeconds, double seconds) throws InterruptedException {
    return run(name, clients, warmupSeconds, seconds, -1);
  }

  /** Open loop at {@code perSecond}, with {@code workers} connections to carry it. */
  LoadResult open(String name, double perSecond, int workers, double warmupSeconds, double seconds)
      throws InterruptedException {
    return run(name, workers, warmupSeconds, seconds, perSecond);
  }

  private LoadResult run(String name, int threads, double warmupSeconds, double seconds, double perSecond)
      throws InterruptedException {
    Recorder ok = new Recorder(3);
    Recorder refused = new Recorder(3);
    Recorder refusedService = new Recorder(3);
    LongAdder sent = new LongAdder();
    Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
    LongAdder ioErrors = new LongAdder();
    long start = System.nanoTime();
    long measureFrom = start + (long) (warmupSeconds * 1e9);
    long end = measureFrom + (long) (seconds * 1e9);
    AtomicLong next = new AtomicLong();
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread w = new Thread(() -> {
        try (RawHttp http = connections.get()) {
          while (true) {
            long sendAt;
            if (perSecond > 0) {
              sendAt = intended(start, next.getAndIncrement(), perSecond);
              if (sendAt - end >= 0) {
                return;
              }
              long wait = sendAt - System.nanoTime();
              if (wait > 0) {
                LockSupport.parkNanos(wait);
              }
            } else {
              sendAt = System.nanoTime();
              if (sendAt - end >= 0) {
                return;
              }
            }
            long actual = System.nanoTime();
            int status;
            try {
              status = http.send().status();
            } catch (IOException e) {
              status = -1;
            }
            long done = System.nanoTime();
            if (sendAt - measureFrom < 0 || done - end > 0) {
              continue; // warm-up, or answered after the window
            }
            long micros = Math.max(1, (done - sendAt) / 1000);
            sent.increment();
            if (status < 0) {
              ioErrors.increment();
            } else {
              statuses.computeIfAbsent(status, s -> new LongAdder()).increment();
              (status == 200 ? ok : refused).recordValue(micros);
              if (status != 200) {
                refusedService.recordValue(Math.max(1, (done - actual) / 1000));
              }
            }
          }
        }
      }, "load-" + t);
      w.setDaemon(true);
      w.start();
      workers.add(w);
    }
    for (Thread w : workers) {
      w.join();
    }
    Map<Integer, Long> byStatus = new java.util.TreeMap<>();
    statuses.forEach((s, n) -> byStatus.put(s, n.sum()));
    Histogram okH = ok.getIntervalHistogram();
    Histogram refusedH = refused.getIntervalHistogram();
    return new LoadResult(name, seconds, okH, refusedH, refusedService.getIntervalHistogram(), byStatus,
        ioErrors.sum(), sent.sum());
  }
}
