package dev.shardserve.perf.allocation;

import dev.shardserve.desired.Device;
import dev.shardserve.node.placement.ReplicaAllocationStrategy;
import dev.shardserve.node.placement.ReplicaAllocationStrategy.NodeCapacity;
import dev.shardserve.protocol.ModelCatalog.NodeModels;
import dev.shardserve.sharding.EntityIds;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;

/**
 * The real allocation strategy's decisions ({@link ReplicaAllocationStrategy#allocate} and
 * {@link ReplicaAllocationStrategy#rebalance}, over {@link dev.shardserve.node.placement.ReplicaPlacement})
 * driven as Akka's shard coordinator drives them, against simulated regions: no network, no
 * actors. Nodes have mixed capacity (CPU-only and GPU, weight as a node publishes it:
 * {@link NodeModels#weight}); a share of the models has {@code device = gpu}. It allocates every
 * replica ({@code model#r}, one shard each), settles (rebalance rounds until a round moves
 * nothing), then alternates node losses (the lost node's shards allocated again, one by one, then
 * settled) and node joins (settled). Every decision is timed.
 */
public final class AllocationSimulation {
  /** What to simulate. */
  public record Settings(int nodes, int models, int replicas, int losses, int joins, double gpuNodeShare,
      double gpuModelShare, long seed, int maxRounds) {
    public Settings {
      if (nodes < 2 || models < 1 || replicas < 1 || losses < 0 || joins < 0 || maxRounds < 1) {
        throw new IllegalArgumentException("need nodes >= 2, models >= 1, replicas >= 1, losses and joins >= 0");
      }
      if (losses >= nodes) {
        throw new IllegalArgumentException("--losses must be below --nodes, was " + losses + " of " + nodes);
      }
      if (gpuNodeShare < 0 || gpuNodeShare > 1 || gpuModelShare < 0 || gpuModelShare > 1) {
        throw new IllegalArgumentException("shares must be between 0 and 1");
      }
    }
  }

  /** One phase's figures. */
  public record Phase(String name, int moved, int minimum, int rounds, int violations, double maxOverMean,
      int misplacedGpu, int nodes, int gpuNodes) {}

  /** The whole run. */
  public record Result(Settings settings, List<Phase> phases, long[] allocateNanos, long[] rebalanceNanos,
      int cpuNodes, int gpuNodes, double totalWeight) {}

  private final Settings settings;
  private final Random random;
  private final Map<String, List<String>> nodes = new LinkedHashMap<>();
  private final Map<String, NodeCapacity> capacity = new HashMap<>();
  private final Function<String, Device> devices;
  private final List<Long> allocateNanos = new ArrayList<>();
  private final List<Long> rebalanceNanos = new ArrayList<>();
  private int nextNode;

  public AllocationSimulation(Settings settings) {
    this.settings = settings;
    this.random = new Random(settings.seed());
    Set<String> gpuModels = new HashSet<>();
    for (int m = 0; m < settings.models(); m++) {
      if (random.nextDouble() < settings.gpuModelShare()) {
        gpuModels.add(model(m));
      }
    }
    this.devices = model -> gpuModels.contains(model) ? Device.GPU : Device.ANY;
  }

  static String model(int m) {
    return String.format(Locale.ROOT, "model-%04d", m);
  }

  /** A node of random capacity: CPU-only (2, 4 or 8 slots) or a GPU node (8 slots and 1, 2 or 4 GPUs). */
  private String addNode() {
    String name = String.format(Locale.ROOT, "node-%03d", nextNode++);
    boolean gpu = random.nextDouble() < settings.gpuNodeShare();
    int cpu = gpu ? 8 : new int[] {2, 4, 8}[random.nextInt(3)];
    int gpus = gpu ? new int[] {1, 2, 4}[random.nextInt(3)] : 0;
    double weight = new NodeModels(Set.of(), cpu, gpus, gpus * 16_384L, Set.of()).weight();
    nodes.put(name, new ArrayList<>());
    capacity.put(name, new NodeCapacity(weight, gpu));
    return name;
  }

  public Result run() {
    for (int i = 0; i < settings.nodes(); i++) {
      addNode();
    }
    List<Phase> phases = new ArrayList<>();
    int shards = 0;
    for (int m = 0; m < settings.models(); m++) {
      for (int r = 0; r < settings.replicas(); r++) {
        allocate(EntityIds.of(model(m), r));
        shards++;
      }
    }
    phases.add(phase("initial allocation", shards, shards, 0));
    int[] settled = settle();
    phases.add(phase("settled after the initial allocation", settled[0], 0, settled[1]));
    for (int i = 0; i < Math.max(settings.losses(), settings.joins()); i++) {
      if (i < settings.losses()) {
        List<String> names = new ArrayList<>(nodes.keySet());
        String lost = names.get(random.nextInt(names.size()));
        List<String> orphans = nodes.remove(lost);
        capacity.remove(lost);
        for (String s : orphans) {
          allocate(s);
        }
        int[] after = settle();
        phases.add(phase("loss " + (i + 1) + " (" + lost + ")", orphans.size() + after[0], orphans.size(),
            after[1]));
      }
      if (i < settings.joins()) {
        String joined = addNode();
        int[] after = settle();
        double share = totalShards() * capacity.get(joined).weight() / totalWeight();
        phases.add(phase("join " + (i + 1) + " (" + joined + (capacity.get(joined).gpu() ? ", GPU" : "") + ")",
            after[0], (int) Math.floor(share), after[1]));
      }
    }
    int gpuNodes = (int) capacity.values().stream().filter(NodeCapacity::gpu).count();
    return new Result(settings, phases, sorted(allocateNanos), sorted(rebalanceNanos), nodes.size() - gpuNodes,
        gpuNodes, totalWeight());
  }

  private void allocate(String shard) {
    long t0 = System.nanoTime();
    String node = ReplicaAllocationStrategy.allocate(shard, nodes, capacity, devices);
    allocateNanos.add(System.nanoTime() - t0);
    nodes.get(node).add(shard);
  }

  /** Rebalance rounds, each handed off and allocated again as the coordinator does, until one moves nothing. */
  private int[] settle() {
    int moved = 0;
    for (int round = 1; round <= settings.maxRounds(); round++) {
      long t0 = System.nanoTime();
      Set<String> move = ReplicaAllocationStrategy.rebalance(nodes, capacity, devices);
      rebalanceNanos.add(System.nanoTime() - t0);
      if (move.isEmpty()) {
        return new int[] {moved, round - 1};
      }
      for (String shard : move) {
        for (List<String> held : nodes.values()) {
          if (held.remove(shard)) {
            break;
          }
        }
      }
      for (String shard : move) {
        allocate(shard);
        moved++;
      }
    }
    throw new IllegalStateException("rebalancing did not settle within " + settings.maxRounds() + " rounds");
  }

  private Phase phase(String name, int moved, int minimum, int rounds) {
    int gpuNodes = (int) capacity.values().stream().filter(NodeCapacity::gpu).count();
    return new Phase(name, moved, minimum, rounds, violations(), maxOverMean(), misplacedGpu(), nodes.size(),
        gpuNodes);
  }

  /** Nodes that hold two replicas of one model. */
  int violations() {
    int n = 0;
    for (List<String> held : nodes.values()) {
      Set<String> models = new HashSet<>();
      for (String s : held) {
        if (!models.add(EntityIds.model(s))) {
          n++;
        }
      }
    }
    return n;
  }

  /** Replicas of gpu models on nodes without a GPU. */
  int misplacedGpu() {
    int n = 0;
    for (Map.Entry<String, List<String>> e : nodes.entrySet()) {
      if (!capacity.get(e.getKey()).gpu()) {
        for (String s : e.getValue()) {
          if (devices.apply(EntityIds.model(s)) == Device.GPU) {
            n++;
          }
        }
      }
    }
    return n;
  }

  /** The most loaded node's shards per unit of weight over the mean of all nodes'. */
  double maxOverMean() {
    double sum = 0;
    double max = 0;
    for (Map.Entry<String, List<String>> e : nodes.entrySet()) {
      double load = e.getValue().size() / capacity.get(e.getKey()).weight();
      sum += load;
      max = Math.max(max, load);
    }
    double mean = sum / nodes.size();
    return mean == 0 ? 0 : max / mean;
  }

  int totalShards() {
    return nodes.values().stream().mapToInt(List::size).sum();
  }

  private double totalWeight() {
    return capacity.values().stream().mapToDouble(NodeCapacity::weight).sum();
  }

  Map<String, List<String>> nodes() {
    return nodes;
  }

  Map<String, NodeCapacity> capacity() {
    return capacity;
  }

  Device deviceOf(String model) {
    return devices.apply(model);
  }

  private static long[] sorted(List<Long> values) {
    return values.stream().mapToLong(Long::longValue).sorted().toArray();
  }

  /** The figures as a Markdown report. */
  public static String report(Result r) {
    Settings s = r.settings();
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "# Placement simulation: %d nodes, %d models × %d replicas%n%n", s.nodes(),
        s.models(), s.replicas()));
    b.append(String.format(Locale.ROOT, "The real allocation strategy (ReplicaAllocationStrategy over ReplicaPlacement) "
        + "on simulated regions, seed %d: %d CPU-only nodes (2, 4 or 8 slots) and %d GPU nodes (8 slots, 1, 2 or 4 "
        + "GPUs; weight = slots + 4 × GPUs) at the end, total weight %.0f; %.0f %% of the models have device = gpu. "
        + "Load = a node's replicas ÷ its weight; a round is one call of rebalance (Akka calls it every "
        + "rebalance-interval, 10 s by default).%n%n", s.seed(), r.cpuNodes(), r.gpuNodes(), r.totalWeight(),
        100 * s.gpuModelShare()));
    b.append("| phase | nodes (GPU) | replicas moved | minimum | rounds to settle | anti-affinity violations | "
        + "max ÷ mean load | gpu replicas off GPU nodes |\n|---|---|---|---|---|---|---|---|\n");
    for (Phase p : r.phases()) {
      b.append(String.format(Locale.ROOT, "| %s | %d (%d) | %d | %d | %d | %d | %.2f | %d |%n", p.name(), p.nodes(),
          p.gpuNodes(), p.moved(), p.minimum(), p.rounds(), p.violations(), p.maxOverMean(), p.misplacedGpu()));
    }
    b.append(String.format(Locale.ROOT, "%n| decision | calls | median µs | p99 µs | max µs |%n|---|---|---|---|---|%n"));
    b.append(timing("allocate one shard", r.allocateNanos()));
    b.append(timing("rebalance (one round)", r.rebalanceNanos()));
    b.append("\nminimum: for a loss, the lost node's replicas; for a join, its fair share (all replicas × its weight "
        + "÷ the total weight, rounded down). Timings are measured on this machine, in one JVM, after a warm-up run "
        + "of the same size.\n");
    return b.toString();
  }

  private static String timing(String name, long[] nanos) {
    if (nanos.length == 0) {
      return "| " + name + " | 0 | | | |\n";
    }
    return String.format(Locale.ROOT, "| %s | %d | %.1f | %.1f | %.1f |%n", name, nanos.length,
        nanos[nanos.length / 2] / 1e3, nanos[(int) Math.min(nanos.length - 1, Math.floor(nanos.length * 0.99))] / 1e3,
        nanos[nanos.length - 1] / 1e3);
  }

  /** {@code AllocationSimulation NODES MODELS REPLICAS LOSSES JOINS GPU_NODE_SHARE GPU_MODEL_SHARE SEED}. */
  public static void main(String[] args) {
    Settings s = new Settings(Integer.parseInt(args[0]), Integer.parseInt(args[1]), Integer.parseInt(args[2]),
        Integer.parseInt(args[3]), Integer.parseInt(args[4]), Double.parseDouble(args[5]),
        Double.parseDouble(args[6]), Long.parseLong(args[7]), 100_000);
    // A first run with another seed warms the JIT up, so that the timings are of compiled code.
    new AllocationSimulation(new Settings(s.nodes(), s.models(), s.replicas(), s.losses(), s.joins(),
        s.gpuNodeShare(), s.gpuModelShare(), s.seed() + 1, s.maxRounds())).run();
    System.out.print(report(new AllocationSimulation(s).run()));
  }
}
