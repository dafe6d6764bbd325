package dev.shardserve.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Kubernetes objects of a kustomization folder, as {@code kubectl kustomize} renders them when
 * kubectl is on the PATH; otherwise the resources parsed from the YAML files the kustomizations
 * list (recursively), with the namespace set and the patches returned apart, unapplied.
 */
record Manifests(List<JsonNode> objects, List<JsonNode> unappliedPatches, boolean renderedByKubectl) {
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  static Manifests render(Path kustomization) throws IOException, InterruptedException {
    String rendered = kubectlKustomize(kustomization);
    if (rendered != null) {
      return new Manifests(parse(rendered), List.of(), true);
    }
    List<JsonNode> objects = new ArrayList<>();
    List<JsonNode> patches = new ArrayList<>();
    parseKustomization(kustomization, objects, patches);
    return new Manifests(objects, patches, false);
  }

  /** Objects of one kind; with a name, only that one. */
  List<JsonNode> ofKind(String kind) {
    return objects.stream().filter(o -> o.path("kind").asText().equals(kind)).toList();
  }

  JsonNode named(String kind, String name) {
    return ofKind(kind).stream().filter(o -> o.path("metadata").path("name").asText().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + " named " + name));
  }

  static List<JsonNode> parse(String yaml) throws IOException {
    List<JsonNode> docs = new ArrayList<>();
    try (var it = YAML.readerFor(JsonNode.class).readValues(yaml)) {
      while (it.hasNext()) {
        JsonNode doc = (JsonNode) it.next();
        if (doc != null && !doc.isNull() && !doc.isEmpty()) {
          docs.add(doc);
        }
      }
    }
    return docs;
  }

  private static void parseKustomization(Path dir, List<JsonNode> objects, List<JsonNode> patches) throws IOException {
    JsonNode k = YAML.readTree(dir.resolve("kustomization.yaml").toFile());
    int first = objects.size();
    for (JsonNode r : k.path("resources")) {
      Path p = dir.resolve(r.asText()).normalize();
      if (Files.isDirectory(p)) {
        parseKustomization(p, objects, patches);
      } else {
        objects.addAll(parse(Files.readString(p)));
      }
    }
    for (JsonNode patch : k.path("patches")) {
      patches.addAll(parse(Files.readString(dir.resolve(patch.path("path").asText()))));
    }
    String namespace = k.path("namespace").asText("");
    if (!namespace.isEmpty()) {
      for (JsonNode o : objects.subList(first, objects.size())) {
        if (!o.path("kind").asText().equals("Namespace")) {
          ((ObjectNode) o.path("metadata")).put("namespace", namespace);
        }
      }
    }
  }

  /** The output of {@code kubectl kustomize DIR}, or null when kubectl is not there or fails to run. */
  private static String kubectlKustomize(Path dir) throws IOException, InterruptedException {
    Process p;
    try {
      // -Dshardserve.kubectl=none runs the YAML-only path where kubectl exists.
      p = new ProcessBuilder(System.getProperty("shardserve.kubectl", "kubectl"), "kustomize", dir.toString()).start();
    } catch (IOException notInstalled) {
      return null;
    }
    byte[] out = p.getInputStream().readAllBytes();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("kubectl kustomize " + dir + " did not finish in 60 s");
    }
    if (p.exitValue() != 0) {
      // kubectl is there and the kustomization is wrong: that is a failure, not a reason to fall back.
      throw new AssertionError("kubectl kustomize " + dir + " failed: " + err);
    }
    return new String(out, StandardCharsets.UTF_8);
  }
}
