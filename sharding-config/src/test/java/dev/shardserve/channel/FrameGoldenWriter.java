package dev.shardserve.channel;

import akka.actor.typed.ActorRefResolver;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.Behaviors;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializer;
import akka.serialization.Serializers;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.settings.ShardServeConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes the channel golden samples of {@link FrameSamples} with the serializer Akka binds for
 * them on the classpath it runs on, into a folder that must not exist yet (golden files are
 * added, never rewritten). Not a test: run by hand, as the README beside the samples says.
 */
final class FrameGoldenWriter {
  private FrameGoldenWriter() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      throw new IllegalArgumentException("usage: FrameGoldenWriter <new folder for the samples>");
    }
    Path out = Path.of(args[0]);
    if (Files.exists(out)) {
      throw new IllegalArgumentException(out + " exists: golden samples are never rewritten");
    }
    Files.createDirectories(out);
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "golden", ShardServeConfig.load(
        ConfigFactory.parseString("akka.remote.artery.canonical.port = 0\nakka.loglevel = WARNING")));
    try {
      Serialization serialization = SerializationExtension.get(Adapter.toClassic(system));
      Map<String, Object> samples = FrameSamples.all(ActorRefResolver.get(system));
      for (Map.Entry<String, Object> e : samples.entrySet()) {
        Object value = e.getValue();
        Serializer serializer = serialization.findSerializerFor(value);
        if (!(serializer instanceof FrameSerializer)) {
          throw new IllegalStateException(e.getKey() + " is bound to " + serializer.getClass().getName());
        }
        String manifest = Serializers.manifestFor(serializer, value);
        String expected = e.getKey().substring(0, e.getKey().indexOf("--"));
        if (!manifest.equals(expected)) {
          throw new IllegalStateException(e.getKey() + " is written with manifest " + manifest);
        }
        Files.write(out.resolve(e.getKey() + ".bin"), serializer.toBinary(value));
      }
      System.out.println("wrote " + samples.size() + " samples to " + out);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }
}
