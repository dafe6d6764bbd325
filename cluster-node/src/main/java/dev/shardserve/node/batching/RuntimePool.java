package dev.shardserve.node.batching;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The node's TensorFlow threads: one bounded pool (one thread per core by default) shared by
 * every model on the node, fair between models as TF Serving's shared batch scheduler is: each
 * model has its own queue of batches and the threads take from the models in turn, so a model
 * with a deep queue cannot starve the others. TensorFlow runs ops on the calling thread
 * (inter-op = -1, intra-op = 1), so these threads are all the cores TensorFlow uses.
 * Nothing else runs here: control messages are handled by the actors and never wait behind a
 * batch.
 */
public final class RuntimePool implements Extension {

  public static final class Id extends ExtensionId<RuntimePool> {
    @Override
    public RuntimePool createExtension(ActorSystem<?> system) {
      int configured = system.settings().config().getInt("shardserve.node.runtime-threads");
      RuntimePool pool = new RuntimePool(configured > 0 ? configured : Runtime.getRuntime().availableProcessors());
      system.getWhenTerminated().thenRun(pool::shutdown);
      return pool;
    }
  }

  public static final Id ID = new Id();

  public static RuntimePool get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  private final int threads;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition work = lock.newCondition();
  private final Map<String, ArrayDeque<Runnable>> queues = new HashMap<>();
  /** Models with queued work, in the order they get a thread next. */
  private final ArrayDeque<String> turn = new ArrayDeque<>();
  private boolean stopped;

  public RuntimePool(int threads) {
    this.threads = threads;
    for (int i = 0; i < threads; i++) {
      Thread t = new Thread(this::work, "shardserve-runtime-" + i);
      t.setDaemon(true);
      t.start();
    }
  }

  public int threads() {
    return threads;
  }

  /** Runs {@code task} on a runtime thread, in {@code model}'s turn. */
  public void submit(String model, Runnable task) {
    lock.lock();
    try {
      if (stopped) {
        throw new IllegalStateException("the runtime pool is shut down");
      }
      ArrayDeque<Runnable> q = queues.computeIfAbsent(model, m -> new ArrayDeque<>());
      if (q.isEmpty()) {
        turn.addLast(model);
      }
      q.addLast(task);
      work.signal();
    } finally {
      lock.unlock();
    }
  }

  /** Tasks waiting for a thread, over all models. */
  public int queued() {
    lock.lock();
    try {
      int n = 0;
      for (ArrayDeque<Runnable> q : queues.values()) {
        n += q.size();
      }
      return n;
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
    while (true) {
      Runnable task;
      lock.lock();
      try {
        while (turn.isEmpty() && !stopped) {
          work.awaitUninterruptibly();
        }
        if (stopped) {
          return;
        }
        String model = turn.pollFirst();
        ArrayDeque<Runnable> q = queues.get(model);
        task = q.pollFirst();
        if (q.isEmpty()) {
          queues.remove(model);
        } else {
          turn.addLast(model);
        }
      } finally {
        lock.unlock();
      }
      try {
        task.run();
      } catch (RuntimeException | Error e) {
        org.slf4j.LoggerFactory.getLogger(RuntimePool.class).error("runtime task failed", e);
      }
    }
  }
}
