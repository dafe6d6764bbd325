package dev.shardserve.sharding;

import akka.actor.typed.ActorSystem;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import dev.shardserve.desired.Device;
import dev.shardserve.desired.ModelSpec;

/**
 * Whether a model of a given {@link Device} can be placed now: a {@code gpu} model only on a
 * worker with role {@code gpu} that is up. The admin API refuses a {@code device = gpu} change
 * while none is, and a request for such a model gets {@link #refusal} instead of waiting for a
 * replica that cannot be placed.
 */
public final class GpuWorkers {
  /** The role of a worker node with one or more GPUs. */
  public static final String ROLE = "gpu";

  private GpuWorkers() {}

  /** Worker nodes with role {@code gpu} that are up, as this node sees the cluster. */
  public static int up(ActorSystem<?> system) {
    String worker = system.settings().config().getString("shardserve.sharding.worker-role");
    int n = 0;
    for (Member m : Cluster.get(system).state().getMembers()) {
      if (m.hasRole(worker) && m.hasRole(ROLE)
          && (m.status() == MemberStatus.up() || m.status() == MemberStatus.weaklyUp())) {
        n++;
      }
    }
    return n;
  }

  /** Null when {@code spec}'s replicas can be placed with {@code gpuWorkers} GPU nodes up; else why not. */
  public static String refusal(String model, ModelSpec spec, int gpuWorkers) {
    if (spec == null || spec.device() != Device.GPU || gpuWorkers > 0) {
      return null;
    }
    return "model '" + model + "' has device = gpu and no worker node with role gpu is up: start a node with GPUs "
        + "(node --gpus), or set its device to any";
  }
}
