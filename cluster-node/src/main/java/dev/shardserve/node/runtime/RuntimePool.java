package dev.shardserve.node.runtime;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import dev.shardserve.concurrent.Ticker;
import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's TensorFlow threads (one per core by default), shared by every model replica on the
 * node, as TensorFlow Serving's shared batch scheduler: each replica has a {@link Queue}, and a
 * free thread takes the next queue in turn, takes one task from it (a batch, by the batcher's
 * rules), runs it and completes its requests itself. So a model with a deep queue cannot starve
 * another, and a request meets one thread hand-off on its way in (the decoding thread to this
 * pool). TensorFlow runs ops on the calling thread (inter-op -1, intra-op 1), so these threads are
 * all the cores TensorFlow uses. A batch that waits for {@code max-queue-delay} is timed by these
 * threads' own timed waits, not by a scheduler tick.
 *
 * <p>Every queue's state is guarded by {@link #lock()}: {@link Queue#poll},
 * {@link Queue#readyAtNanos} and {@link Queue#hasWork} are called with it held; the task
 * {@code poll} returns runs without it. A queue calls {@link #ready} (lock held) when it may have
 * a task sooner than before.
 */
public final class RuntimePool implements Extension {
  private static final Logger log = LoggerFactory.getLogger(RuntimePool.class);

  /** One replica's work, as the pool sees it. All methods are called with the pool's lock held. */
  public abstract static class Queue {
    /** In the pool's turn; guarded by the pool's lock. */
    private boolean inTurn;

    /** The next task ready at {@code nowNanos} (a batch to run, or expired requests to answer), or null. */
    protected abstract Runnable poll(long nowNanos);

    /**
     * When this queue next has a task: {@code nowNanos} or earlier when it has one now, a later
     * time when a batch waits for its delay, {@link Long#MAX_VALUE} when it has nothing a thread
     * could take now (empty, or at its parallel-batches limit: it calls {@link #ready} when a
     * batch ends).
     */
    protected abstract long readyAtNanos(long nowNanos);

    /** True while the queue holds requests (waiting or running): it keeps its place in the turn. */
    protected abstract boolean hasWork();
  }

  public static final class Id extends ExtensionId<RuntimePool> {
    @Override
    public RuntimePool createExtension(ActorSystem<?> system) {
      int configured = system.settings().config().getInt("shardserve.node.runtime-threads");
      RuntimePool pool = new RuntimePool(configured > 0 ? configured : Runtime.getRuntime().availableProcessors(),
          Ticker.SYSTEM);
      system.getWhenTerminated().thenRun(pool::shutdown);
      return pool;
    }
  }

  public static final Id ID = new Id();

  public static RuntimePool get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  private final int threads;
  private final Ticker ticker;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition work = lock.newCondition();
  /** Queues with work, in the order they get a thread next; each at most once. */
  private final ArrayDeque<Queue> turn = new ArrayDeque<>();
  private final java.util.HashMap<String, TaskQueue> tasks = new java.util.HashMap<>();
  private int idle;
  private boolean stopped;

  public RuntimePool(int threads, Ticker ticker) {
    if (threads < 1) {
      throw new IllegalArgumentException("shardserve.node.runtime-threads must be >= 1 (0 = one per core), was "
          + threads);
    }
    this.threads = threads;
    this.ticker = ticker;
    for (int i = 0; i < threads; i++) {
      Thread t = new Thread(this::work, "shardserve-runtime-" + i);
      t.setDaemon(true);
      t.start();
    }
  }

  public int threads() {
    return threads;
  }

  public Ticker ticker() {
    return ticker;
  }

  /** The lock that guards every queue's state. */
  public ReentrantLock lock() {
    return lock;
  }

  /**
   * {@code q} may have a task now or sooner than before (a request arrived, a batch finished): it
   * joins the turn if it is not in it, and an idle thread looks again. Lock held.
   */
  public void ready(Queue q) {
    if (!q.inTurn) {
      q.inTurn = true;
      turn.addLast(q);
    }
    if (idle > 0) {
      work.signal();
    }
  }

  /**
   * Runs {@code task} on a runtime thread in {@code name}'s turn, as a queue of plain tasks (for
   * work that is not a replica's batch, and for tests that must hold the runtime threads).
   */
  public void submit(String name, Runnable task) {
    lock.lock();
    try {
      if (stopped) {
        throw new IllegalStateException("the runtime pool is shut down");
      }
      TaskQueue q = tasks.computeIfAbsent(name, n -> new TaskQueue());
      q.tasks.addLast(task);
      ready(q);
    } finally {
      lock.unlock();
    }
  }

  /** Plain tasks of one name, one per turn. Guarded by the pool's lock. */
  private static final class TaskQueue extends Queue {
    final ArrayDeque<Runnable> tasks = new ArrayDeque<>();

    @Override
    protected Runnable poll(long nowNanos) {
      return tasks.pollFirst();
    }

    @Override
    protected long readyAtNanos(long nowNanos) {
      return tasks.isEmpty() ? Long.MAX_VALUE : nowNanos;
    }

    @Override
    protected boolean hasWork() {
      return !tasks.isEmpty();
    }
  }

  /** Tasks waiting in {@link #submit}'s queues. */
  public int queued() {
    lock.lock();
    try {
      int n = 0;
      for (TaskQueue q : tasks.values()) {
        n += q.tasks.size();
      }
      return n;
    } finally {
      lock.unlock();
    }
  }

  public boolean isStopped() {
    return stopped;
  }

  /** Queues that hold work now (for tests and status). */
  public int queuesWithWork() {
    lock.lock();
    try {
      return turn.size();
    } finally {
      lock.unlock();
    }
  }

  public void shutdown() {
    lock.lock();
    try {
      stopped = true;
      work.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void work() {
    lock.lock();
    try {
      while (!stopped) {
        Runnable task = null;
        long now = ticker.nanos();
        long wakeAt = Long.MAX_VALUE;
        for (int i = turn.size(); i > 0; i--) {
          Queue q = turn.pollFirst();
          Runnable t = q.readyAtNanos(now) - now <= 0 ? q.poll(now) : null;
          if (q.hasWork()) {
            turn.addLast(q); // one task per turn: the queues behind it go first next time
            wakeAt = Math.min(wakeAt, q.readyAtNanos(now));
          } else {
            q.inTurn = false;
          }
          if (t != null) {
            task = t;
            break;
          }
        }
        boolean moreReady = false;
        if (task != null && idle > 0) {
          for (Queue q : turn) {
            if (q.readyAtNanos(now) - now <= 0) {
              moreReady = true;
              break;
            }
          }
        }
        if (task == null) {
          idle++;
          try {
            if (wakeAt == Long.MAX_VALUE) {
              work.await();
            } else if (wakeAt - now > 0) {
              work.awaitNanos(wakeAt - now);
            }
          } catch (InterruptedException e) {
            return;
          } finally {
            idle--;
          }
          continue;
        }
        if (moreReady && idle > 0) {
          work.signal(); // another task is ready: an idle thread takes it while this one runs
        }
        lock.unlock();
        try {
          task.run();
        } catch (Throwable t) {
          // A task answers its own requests whatever happens; this is the last line of defence.
          log.error("runtime task failed", t);
        } finally {
          lock.lock();
        }
      }
    } finally {
      lock.unlock();
    }
  }
}
