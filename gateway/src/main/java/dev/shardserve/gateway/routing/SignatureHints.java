package dev.shardserve.gateway.routing;

import dev.shardserve.concurrent.Ticker;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.ModelProtocol.ModelMetadata;
import dev.shardserve.protocol.ModelProtocol.SignatureInfo;
import dev.shardserve.protocol.ModelProtocol.TensorInfo;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * What a gateway knows of the input dtypes of models served on other nodes, so that it decodes a
 * request body straight into them (a float32 input then travels as 4 bytes per value, not 8). Read
 * from a model's metadata in the background when first needed and again after {@code ttlNanos};
 * until then requests decode as JSON numbers (INT64/FLOAT64) and the node converts them. A stale
 * entry costs nothing but a conversion: the node checks every request against the version that
 * runs it.
 */
final class SignatureHints {
  private record Entry(Map<String, Map<String, DType>> bySignature, long fetchedNanos) {}

  private final ConcurrentHashMap<String, Entry> byModel = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Boolean> fetching = new ConcurrentHashMap<>();
  private final Ticker ticker;
  private final long ttlNanos;
  private final java.util.function.BiConsumer<String, Consumer<ModelMetadata>> fetch;

  /** @param fetch asks a replica of a model for its metadata; calls back with it (or never, on failure) */
  SignatureHints(Ticker ticker, long ttlNanos, java.util.function.BiConsumer<String, Consumer<ModelMetadata>> fetch) {
    this.ticker = ticker;
    this.ttlNanos = ttlNanos;
    this.fetch = fetch;
  }

  /** The input dtypes of {@code signature} of {@code model}, or null when not known (yet). */
  Map<String, DType> inputTypes(String model, String signature) {
    Entry e = byModel.get(model);
    if ((e == null || ticker.nanos() - e.fetchedNanos() > ttlNanos) && fetching.putIfAbsent(model, true) == null) {
      fetch.accept(model, md -> {
        byModel.put(model, new Entry(types(md), ticker.nanos()));
        fetching.remove(model);
      });
    }
    return e == null ? null : e.bySignature().get(signature);
  }

  /** The fetch failed: another may start at the next request. */
  void failed(String model) {
    fetching.remove(model);
  }

  static Map<String, Map<String, DType>> types(ModelMetadata md) {
    Map<String, Map<String, DType>> out = new HashMap<>();
    for (Map.Entry<String, SignatureInfo> s : md.signatures().entrySet()) {
      Map<String, DType> inputs = new HashMap<>();
      for (Map.Entry<String, TensorInfo> in : s.getValue().inputs().entrySet()) {
        DType t = DType.fromTfName(in.getValue().dtype());
        if (t != null) {
          inputs.put(in.getKey(), t);
        }
      }
      out.put(s.getKey(), Map.copyOf(inputs));
    }
    return Map.copyOf(out);
  }
}
