package dev.shardserve.gateway.tfserving;

import akka.http.javadsl.model.HttpEntity;
import akka.http.javadsl.model.HttpRequest;
import akka.stream.Materializer;
import akka.util.ByteString;
import dev.shardserve.concurrent.PlainFutures;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Request bodies without a stream where none is needed. Akka HTTP hands a body that arrived in
 * one network read as a strict entity; reading or discarding it through the streaming API would
 * still materialize a stream (an actor) per request, which profiling showed on every predict.
 * Only a body that is still arriving goes through {@code toStrict} (bounded by {@code limit}).
 */
public final class Bodies {
  private Bodies() {}

  public static CompletionStage<byte[]> read(HttpRequest request, Duration timeout, long limit,
      Materializer materializer) {
    HttpEntity entity = request.entity();
    if (entity instanceof HttpEntity.Strict strict && strict.getData().size() <= limit) {
      return CompletableFuture.completedFuture(strict.getData().toArray());
    }
    return PlainFutures.of(entity.toStrict(timeout.toMillis(), limit, materializer))
        .thenApply(s -> s.getData().toArray());
  }

  /**
   * The body as Akka's {@link ByteString}, without the copy into one array that {@link #read}
   * makes: for a body whose parts are sliced (the v2 binary tensor format), each slice is copied
   * once, into its own tensor.
   */
  public static CompletionStage<ByteString> readByteString(HttpRequest request, Duration timeout, long limit,
      Materializer materializer) {
    HttpEntity entity = request.entity();
    if (entity instanceof HttpEntity.Strict strict && strict.getData().size() <= limit) {
      return CompletableFuture.completedFuture(strict.getData());
    }
    return PlainFutures.of(entity.toStrict(timeout.toMillis(), limit, materializer)).thenApply(s -> s.getData());
  }

  /** Drops an unread body (a refused request) so that the connection can carry the next one. */
  public static void discard(HttpRequest request, Materializer materializer) {
    if (!request.entity().isStrict()) {
      request.discardEntityBytes(materializer);
    }
  }
}
