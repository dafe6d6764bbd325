package dev.shardserve.concurrent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import scala.concurrent.Promise;
import scala.jdk.javaapi.FutureConverters;

class PlainFuturesTest {
  @Test
  void callbacks_runOnTheCompletingThread_notOnANewOne() throws Exception {
    Promise<String> promise = Promise.apply();
    CompletionStage<String> akkaStyle = FutureConverters.asJava(promise.future());
    AtomicReference<Thread> ranOn = new AtomicReference<>();
    CompletableFuture<String> done = PlainFutures.of(akkaStyle).thenApply(v -> {
      ranOn.set(Thread.currentThread());
      return v + "!";
    });
    Thread completer = new Thread(() -> promise.success("ok"), "completer");
    completer.start();
    assertEquals("ok!", done.get(10, TimeUnit.SECONDS));
    assertSame(completer, ranOn.get());
  }

  @Test
  void failures_propagate() {
    Promise<String> promise = Promise.apply();
    CompletableFuture<String> plain = PlainFutures.of(FutureConverters.asJava(promise.future()));
    promise.failure(new IllegalStateException("boom"));
    assertEquals("boom", plain.handle((v, e) -> e.getMessage()).join());
  }
}
