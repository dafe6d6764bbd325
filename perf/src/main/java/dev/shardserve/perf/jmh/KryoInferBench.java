package dev.shardserve.perf.jmh;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.Behaviors;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializers;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.protocol.ModelProtocol;
import dev.shardserve.protocol.Tensor;
import dev.shardserve.protocol.VersionSelector;
import dev.shardserve.settings.ShardServeConfig;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * An {@code Infer} of 32 × 784 floats through the serializer Akka picks for it between JVMs (our
 * Kryo serializer): to bytes and back, as a gateway → node hop does.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class KryoInferBench {
  ActorSystem<Void> system;
  Serialization serialization;
  ModelProtocol.Infer infer;
  byte[] bytes;
  int serializerId;
  String manifest;

  @Setup
  public void setup() {
    system = ActorSystem.create(Behaviors.empty(), "kryo-bench", ShardServeConfig.load(ConfigFactory.parseString(
        "akka.actor.provider = local")));
    ActorRef<ModelProtocol.InferReply> replyTo = system.systemActorOf(Behaviors.ignore(), "reply-to",
        Props.empty());
    Random r = new Random(7);
    float[] v = new float[32 * 784];
    for (int i = 0; i < v.length; i++) {
      v[i] = r.nextFloat();
    }
    infer = new ModelProtocol.Infer("mlp", VersionSelector.latest(), "serving_default",
        Map.of("x", Tensor.ofFloats(new long[] {32, 784}, v)), System.currentTimeMillis() + 30_000, replyTo);
    serialization = SerializationExtension.get(Adapter.toClassic(system));
    bytes = serialization.serialize(infer).get();
    serializerId = serialization.findSerializerFor(infer).identifier();
    manifest = Serializers.manifestFor(serialization.findSerializerFor(infer), infer);
  }

  @TearDown
  public void stop() {
    system.terminate();
  }

  @Benchmark
  public Object roundTrip() {
    byte[] b = serialization.serialize(infer).get();
    return serialization.deserialize(b, serializerId, manifest).get();
  }

  @Benchmark
  public byte[] serialize() {
    return serialization.serialize(infer).get();
  }

  @Benchmark
  public Object deserialize() {
    return serialization.deserialize(bytes, serializerId, manifest).get();
  }
}
