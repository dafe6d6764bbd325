package dev.shardserve.gateway.kserve;

import dev.shardserve.desired.ModelSpec;
import dev.shardserve.gateway.routing.ModelRouter;
import dev.shardserve.gateway.routing.RoutingSnapshot;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.GetStatus;
import dev.shardserve.protocol.ModelProtocol.ModelStatus;
import dev.shardserve.protocol.ModelProtocol.StatusReply;
import dev.shardserve.protocol.ModelProtocol.VersionState;
import dev.shardserve.protocol.ModelProtocol.VersionStatus;
import dev.shardserve.protocol.VersionSelector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The v2 readiness rules, shared by REST and gRPC. A model (or one version of it) is ready when
 * some replica of it has that version AVAILABLE (for the model: any version). The server is
 * ready, as KServe's required API puts it ("all the models are ready for inferencing"), when a
 * worker node has joined and every model the desired state says to serve (named and loaded, or
 * found in a repository while discovery is on) has a replica with an AVAILABLE version; with
 * discovery on, also only once some worker has published its models (before that they are not
 * known, and a server with nothing to serve is not ready). Each
 * answer asks every replica of every such model for its status, bounded by the control timeout.
 */
public final class V2Readiness {
  /** A readiness answer: ready, or why not, with the code that says how (unknown model, not ready). */
  public record Answer(boolean ready, ErrorCode code, String reason) {
    static final Answer READY = new Answer(true, null, "");

    static Answer not(ErrorCode code, String reason) {
      return new Answer(false, code, reason);
    }
  }

  private final ModelRouter router;
  private final Duration timeout;

  public V2Readiness(ModelRouter router, Duration timeout) {
    this.router = router;
    this.timeout = timeout;
  }

  /** Whether version {@code version} of {@code model} (Latest: any version) can serve now. */
  public CompletionStage<Answer> model(String model, VersionSelector version) {
    RoutingSnapshot snapshot = router.snapshot();
    Failure unroutable = router.unroutable(snapshot, model, "model '" + model + "' is not served here");
    if (unroutable != null) {
      return CompletableFuture.completedFuture(Answer.not(unroutable.code(), unroutable.message()));
    }
    return replicas(model, snapshot.route(model).replicas(), version).thenApply(states -> {
      for (StatusReply s : states) {
        if (available(s)) {
          return Answer.READY;
        }
      }
      for (StatusReply s : states) {
        if (s instanceof Failure f && (f.code() == ErrorCode.VERSION_NOT_FOUND
            || f.code() == ErrorCode.LABEL_NOT_FOUND || f.code() == ErrorCode.MODEL_NOT_FOUND)) {
          return Answer.not(f.code(), f.message());
        }
      }
      return Answer.not(ErrorCode.MODEL_NOT_READY, version.describe(model) + " is not ready: " + describe(states));
    });
  }

  /** Whether every model that should be served has a replica with an AVAILABLE version. */
  public CompletionStage<Answer> server() {
    RoutingSnapshot snapshot = router.snapshot();
    if (!snapshot.workersJoined()) {
      return CompletableFuture.completedFuture(Answer.not(ErrorCode.MODEL_NOT_READY,
          "no worker node has joined the cluster yet"));
    }
    if (snapshot.routes().isEmpty() && snapshot.desired().discoverRepository()) {
      // Until a worker's catalog has arrived, the repository's models are not known: not ready
      // rather than vacuously ready.
      return CompletableFuture.completedFuture(Answer.not(ErrorCode.MODEL_NOT_READY,
          "no worker node has published the models of its repository yet"));
    }
    // The desired state decides which models count: named and loaded, or (discovery on) found in
    // a repository, which is what a worker publishes. A named model that is unloaded never counts.
    TreeSet<String> models = new TreeSet<>();
    for (String m : snapshot.routes().keySet()) {
      ModelSpec spec = snapshot.desired().models().get(m);
      if (spec != null ? spec.loaded() : snapshot.desired().discoverRepository()) {
        models.add(m);
      }
    }
    for (Map.Entry<String, ModelSpec> e : snapshot.desired().models().entrySet()) {
      if (e.getValue().loaded()) {
        models.add(e.getKey());
      }
    }
    List<String> missing = new ArrayList<>();
    List<CompletableFuture<Answer>> asks = new ArrayList<>();
    List<String> asked = new ArrayList<>();
    for (String m : models) {
      if (snapshot.route(m) == null) {
        missing.add(m);
      } else {
        asked.add(m);
        asks.add(model(m, VersionSelector.latest()).toCompletableFuture());
      }
    }
    return CompletableFuture.allOf(asks.toArray(new CompletableFuture<?>[0])).thenApply(done -> {
      List<String> notReady = new ArrayList<>();
      for (int i = 0; i < asks.size(); i++) {
        if (!asks.get(i).join().ready()) {
          notReady.add(asked.get(i));
        }
      }
      if (missing.isEmpty() && notReady.isEmpty()) {
        return Answer.READY;
      }
      StringBuilder why = new StringBuilder("not every model is ready:");
      if (!notReady.isEmpty()) {
        why.append(" no AVAILABLE version yet for ").append(abbreviated(notReady)).append(';');
      }
      if (!missing.isEmpty()) {
        why.append(" no worker serves ").append(abbreviated(missing)).append(" yet;");
      }
      return Answer.not(ErrorCode.MODEL_NOT_READY, why.substring(0, why.length() - 1));
    });
  }

  private CompletableFuture<List<StatusReply>> replicas(String model, int count, VersionSelector version) {
    List<CompletableFuture<StatusReply>> asks = new ArrayList<>();
    for (int r = 0; r < count; r++) {
      asks.add(router.<StatusReply>askReplica(model, r, replyTo -> new GetStatus(model, version, replyTo), timeout,
          f -> f).toCompletableFuture());
    }
    return CompletableFuture.allOf(asks.toArray(new CompletableFuture<?>[0])).thenApply(done -> {
      List<StatusReply> out = new ArrayList<>();
      asks.forEach(a -> out.add(a.join()));
      return out;
    });
  }

  private static boolean available(StatusReply s) {
    if (s instanceof ModelStatus st) {
      for (VersionStatus v : st.versions()) {
        if (v.state() == VersionState.AVAILABLE) {
          return true;
        }
      }
    }
    return false;
  }

  private static String describe(List<StatusReply> states) {
    List<String> parts = new ArrayList<>();
    for (int r = 0; r < states.size(); r++) {
      StatusReply s = states.get(r);
      if (s instanceof ModelStatus st) {
        List<String> versions = new ArrayList<>();
        for (VersionStatus v : st.versions()) {
          versions.add(v.version() + " " + v.state() + (v.errorCode() != null ? " (" + v.errorMessage() + ")" : ""));
        }
        parts.add("replica " + r + ": " + (versions.isEmpty() ? "no version" : String.join(", ", versions)));
      } else {
        parts.add("replica " + r + ": " + ((Failure) s).message());
      }
    }
    return String.join("; ", parts);
  }

  private static String abbreviated(List<String> names) {
    return names.size() <= 10 ? names.toString() : names.subList(0, 10) + " and " + (names.size() - 10) + " more";
  }
}
