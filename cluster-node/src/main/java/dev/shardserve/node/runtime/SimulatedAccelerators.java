package dev.shardserve.node.runtime;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import dev.shardserve.concurrent.Ticker;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's timer for simulated accelerators (an Akka extension): one
 * {@link ScheduledThreadPoolExecutor} thread that sleeps until the earliest end of a simulated
 * batch (it parks, using no CPU while it waits; its precision is the kernel's timer, tens of
 * microseconds on Linux, not Akka's 1 ms scheduler tick), and hands each ended batch to the node's
 * {@link RuntimePool}, whose threads answer its requests as they would a TensorFlow batch's.
 */
public final class SimulatedAccelerators implements Extension {
  private static final Logger log = LoggerFactory.getLogger(SimulatedAccelerators.class);

  /** The runtime pool's turn in which ended simulated batches are answered. */
  static final String COMPLETIONS = "simulated-accelerator";

  public static final class Id extends ExtensionId<SimulatedAccelerators> {
    @Override
    public SimulatedAccelerators createExtension(ActorSystem<?> system) {
      SimulatedAccelerators s = new SimulatedAccelerators(RuntimePool.get(system));
      system.getWhenTerminated().thenRun(s::shutdown);
      return s;
    }
  }

  public static final Id ID = new Id();

  public static SimulatedAccelerators get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  private final ScheduledThreadPoolExecutor timer;
  private final Simulator simulator;

  SimulatedAccelerators(RuntimePool pool) {
    this.timer = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "shardserve-simulated-accelerator");
      t.setDaemon(true);
      return t;
    });
    timer.setRemoveOnCancelPolicy(true);
    Executor completions = task -> {
      try {
        pool.submit(COMPLETIONS, task);
      } catch (IllegalStateException stopped) {
        task.run(); // the pool is shut down (the node stops): answer here rather than never
      }
    };
    this.simulator = new Simulator(Ticker.SYSTEM, (task, delayNanos) -> {
      try {
        timer.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
      } catch (java.util.concurrent.RejectedExecutionException stopped) {
        log.debug("simulated accelerator timer is shut down: ending a batch now");
        task.run();
      }
    }, completions);
  }

  /** What the node's model loader hands each simulated model. */
  public Simulator simulator() {
    return simulator;
  }

  void shutdown() {
    timer.shutdown();
  }
}
