package dev.shardserve.gateway.kserve;

import dev.shardserve.gateway.routing.ModelRouter;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.ModelProtocol.GetMetadata;
import dev.shardserve.protocol.ModelProtocol.MetadataReply;
import dev.shardserve.protocol.ModelProtocol.ModelMetadata;
import dev.shardserve.protocol.ModelProtocol.SignatureInfo;
import dev.shardserve.protocol.ModelProtocol.TensorInfo;
import dev.shardserve.protocol.VersionSelector;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The input dtypes of signatures whose replicas run in another JVM, learned from their metadata,
 * so that a v2 request's declared datatypes are checked at the gateway in a cluster too (in this
 * JVM the replica's handle knows them). The first request for a model and version selector waits
 * for one metadata query; later ones read the cache. An answer from another version than the
 * cached one (a swap, a moved label) drops the entry, and the next request asks again.
 */
public final class V2InputTypes {
  /** What one metadata answer says: the version it describes and each signature's input dtypes. */
  private record Entry(long version, Map<String, Map<String, DType>> signatures) {}

  private final ModelRouter router;
  private final Duration timeout;
  private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();

  public V2InputTypes(ModelRouter router, Duration timeout) {
    this.router = router;
    this.timeout = timeout;
  }

  private static String key(String model, VersionSelector version) {
    return version.describe(model);
  }

  /**
   * The input dtypes of {@code signature} for requests naming {@code version} of {@code model};
   * null when not known (the signature does not exist, or the metadata query failed: then the
   * replica checks the request itself).
   */
  public CompletionStage<Map<String, DType>> of(String model, VersionSelector version, String signature) {
    Entry e = entries.get(key(model, version));
    if (e != null) {
      return CompletableFuture.completedFuture(e.signatures().get(signature));
    }
    return router.<MetadataReply>ask(model, replyTo -> new GetMetadata(model, version, replyTo), timeout, f -> f)
        .thenApply(reply -> {
          if (!(reply instanceof ModelMetadata md)) {
            return null;
          }
          Entry learned = entry(md);
          entries.put(key(model, version), learned);
          return learned.signatures().get(signature);
        });
  }

  /** An answer came from {@code answered}: forget what was learned for another version. */
  public void answeredBy(String model, VersionSelector version, long answered) {
    String k = key(model, version);
    Entry e = entries.get(k);
    if (e != null && e.version() != answered) {
      entries.remove(k, e);
    }
  }

  private static Entry entry(ModelMetadata md) {
    Map<String, Map<String, DType>> signatures = new HashMap<>();
    for (Map.Entry<String, SignatureInfo> s : md.signatures().entrySet()) {
      Map<String, DType> types = new HashMap<>();
      for (Map.Entry<String, TensorInfo> in : s.getValue().inputs().entrySet()) {
        DType t = DType.fromTfName(in.getValue().dtype());
        if (t != null) {
          types.put(in.getKey(), t);
        }
      }
      signatures.put(s.getKey(), Map.copyOf(types));
    }
    return new Entry(md.version(), Map.copyOf(signatures));
  }
}
