package dev.shardserve.node.runtime;

import dev.shardserve.concurrent.Ticker;
import java.util.concurrent.Executor;

/**
 * What a node gives its simulated accelerators: the clock they keep time with, the timer that
 * ends their batches, and where a finished batch's requests are answered (the node's runtime
 * threads). The node's comes from {@link SimulatedAccelerators}; tests build one on a fake clock.
 */
public record Simulator(Ticker ticker, AcceleratorTimer timer, Executor completions) {}
