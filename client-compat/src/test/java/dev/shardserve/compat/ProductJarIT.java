package dev.shardserve.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * The product jar holds one copy of every protobuf class and type: protobuf's own classes exactly
 * as protobuf-java ships them, no other generated copy of TensorFlow's or TF Serving's messages
 * (Camel's and others' packages), and across every proto file our services reach, each message
 * type defined once.
 */
class ProductJarIT {
  static final List<String> FOREIGN = List.of("tensorflow/", "tensorflow_serving/", "inference/",
      "org/tensorflow/framework/", "org/tensorflow/example/");

  @Test
  void noForeignCopiesOfGeneratedClasses() throws IOException {
    try (ZipFile jar = new ZipFile(ShardServeProcess.jar().toFile())) {
      List<String> foreign = jar.stream().map(ZipEntry::getName)
          .filter(n -> n.endsWith(".class") && FOREIGN.stream().anyMatch(n::startsWith)).limit(20).toList();
      assertEquals(List.of(), foreign);
    }
  }

  @Test
  void protobufClasses_areProtobufJavasOwn() throws IOException {
    Path protobuf = Path.of(System.getProperty("protobuf.jar"));
    try (ZipFile jar = new ZipFile(ShardServeProcess.jar().toFile()); ZipFile pb = new ZipFile(protobuf.toFile())) {
      List<String> differ = new ArrayList<>();
      int checked = 0;
      // com/google/protobuf/util is protobuf-java-util's (grpc-services' JSON helpers): not a copy of protobuf-java.
      for (ZipEntry e : jar.stream().filter(e -> e.getName().startsWith("com/google/protobuf/")
          && !e.getName().startsWith("com/google/protobuf/util/") && e.getName().endsWith(".class")).toList()) {
        ZipEntry own = pb.getEntry(e.getName());
        checked++;
        if (own == null || !Arrays.equals(read(jar, e), read(pb, own))) {
          differ.add(e.getName());
        }
      }
      assertTrue(checked > 100, "only " + checked + " protobuf classes found");
      assertEquals(List.of(), differ, "classes in com/google/protobuf that are not protobuf-java's (" + protobuf + ")");
    }
  }

  private static byte[] read(ZipFile zip, ZipEntry e) throws IOException {
    try (InputStream in = zip.getInputStream(e)) {
      return in.readAllBytes();
    }
  }

  @Test
  void everyMessageTypeOurServicesReach_isDefinedOnce() throws Exception {
    try (URLClassLoader loader = new URLClassLoader(new URL[] {ShardServeProcess.jar().toUri().toURL()}, null)) {
      Deque<Object> files = new ArrayDeque<>();
      for (String outer : List.of("dev.shardserve.gateway.proto.tfserving.PredictionServiceProtos",
          "dev.shardserve.gateway.proto.tfserving.ModelServiceProtos", "dev.shardserve.gateway.proto.kserve.GrpcPredictV2",
          "org.tensorflow.proto.TensorProtos", "org.tensorflow.proto.MetaGraphProtos")) {
        files.add(loader.loadClass(outer).getMethod("getDescriptor").invoke(null));
      }
      Class<?> fileClass = loader.loadClass("com.google.protobuf.Descriptors$FileDescriptor");
      Method name = fileClass.getMethod("getName");
      Method deps = fileClass.getMethod("getDependencies");
      Method messages = fileClass.getMethod("getMessageTypes");
      Method fullName = loader.loadClass("com.google.protobuf.Descriptors$Descriptor").getMethod("getFullName");
      Map<String, Object> byName = new HashMap<>();
      Map<String, String> typeToFile = new HashMap<>();
      Set<String> duplicates = new HashSet<>();
      while (!files.isEmpty()) {
        Object f = files.poll();
        String n = (String) name.invoke(f);
        Object seen = byName.putIfAbsent(n, f);
        if (seen != null) {
          if (seen != f) {
            duplicates.add("file " + n + " has two descriptors (two generated copies)");
          }
          continue;
        }
        for (Object m : (List<?>) messages.invoke(f)) {
          String type = (String) fullName.invoke(m);
          String other = typeToFile.put(type, n);
          if (other != null) {
            duplicates.add(type + " in " + other + " and " + n);
          }
        }
        files.addAll((List<?>) deps.invoke(f));
      }
      assertTrue(byName.containsKey("tensorflow/core/framework/tensor.proto"), byName.keySet().toString());
      assertTrue(typeToFile.containsKey("tensorflow.serving.PredictRequest"), typeToFile.keySet().toString());
      assertEquals(Set.of(), duplicates);
    }
  }
}
