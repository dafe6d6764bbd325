package dev.shardserve.gateway.kserve;

import dev.shardserve.protocol.Outputs;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Which of a signature's outputs a v2 answer carries, in which order: the requested ones in the
 * request's order, or every output in name order when the request names none. Shared by REST
 * and gRPC.
 */
public final class V2Outputs {
  private V2Outputs() {}

  /** Indexes into {@code outputs}; a 400 naming an output the signature does not have, or one asked twice. */
  public static int[] select(Outputs outputs, List<V2RequestedOutput> requested) {
    if (requested.isEmpty()) {
      int[] all = new int[outputs.size()];
      for (int i = 0; i < all.length; i++) {
        all[i] = i;
      }
      return all;
    }
    int[] out = new int[requested.size()];
    Set<String> seen = new HashSet<>();
    for (int k = 0; k < out.length; k++) {
      String name = requested.get(k).name();
      int i = outputs.indexOf(name);
      if (i < 0) {
        throw V2Exception.invalid("output '" + name + "' was requested, but the signature's outputs are "
            + outputs.names());
      }
      if (!seen.add(name)) {
        throw V2Exception.invalid("output '" + name + "' is requested twice");
      }
      out[k] = i;
    }
    return out;
  }
}
