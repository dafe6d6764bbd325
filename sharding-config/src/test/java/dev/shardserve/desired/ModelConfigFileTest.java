package dev.shardserve.desired;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelConfigFileTest {
  @TempDir Path dir;

  private DesiredState read(String name, String text) throws Exception {
    Path f = dir.resolve(name);
    Files.writeString(f, text);
    return ModelConfigFile.read(f);
  }

  @Test
  void hocon_everyField() throws Exception {
    DesiredState s = read("models.conf", """
        discover-repository = true
        models {
          half_plus_two {
            base-path = "/srv/hpt"
            version-policy { specific = [123, 124] }
            labels { stable = 123, canary = 124 }
          }
          counter { stateful = true, version-policy = all }
          mlp { replicas = 3, version-policy { latest = 2 } }
        }
        """);
    assertTrue(s.discoverRepository());
    ModelSpec hpt = s.models().get("half_plus_two");
    assertEquals("/srv/hpt", hpt.basePath());
    assertEquals(new VersionPolicy.Specific(new TreeSet<>(Set.of(123L, 124L))), hpt.policy());
    assertEquals(Map.of("stable", 123L, "canary", 124L), hpt.labels());
    assertTrue(s.models().get("counter").stateful());
    assertEquals(VersionPolicy.All.INSTANCE, s.models().get("counter").policy());
    assertEquals(3, s.models().get("mlp").replicas());
    assertEquals(new VersionPolicy.Latest(2), s.models().get("mlp").policy());
  }

  @Test
  void device_gpuCpuOrAny_anyByDefault_anythingElseRefusedByName() throws Exception {
    DesiredState s = read("devices.conf", """
        models { a { device = gpu }, b { device = "CPU" }, c {} }
        """);
    assertEquals(Device.GPU, s.models().get("a").device());
    assertEquals(Device.CPU, s.models().get("b").device());
    assertEquals(Device.ANY, s.models().get("c").device());
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> read("bad-device.conf", "models { a { device = tpu } }"));
    assertTrue(e.getMessage().contains("models.a.device must be \"gpu\", \"cpu\" or \"any\", was \"tpu\""),
        e.getMessage());
  }

  @Test
  void json_sameShape_andDiscoveryOffByDefault() throws Exception {
    DesiredState s = read("models.json", """
        {"models": {"m": {"version-policy": {"latest": {"num_versions": 3}}, "labels": {"stable": "7"}}}}
        """);
    assertFalse(s.discoverRepository());
    assertEquals(new VersionPolicy.Latest(3), s.models().get("m").policy());
    assertEquals(7L, s.models().get("m").labels().get("stable"));
  }

  @Test
  void tfServingModelConfigList() throws Exception {
    DesiredState s = read("models.config", """
        # TF Serving's own format
        model_config_list {
          config {
            name: 'half_plus_two'
            base_path: '/models/half_plus_two/'
            model_platform: 'tensorflow'
            model_version_policy { specific { versions: 123 versions: 124 } }
            version_labels { key: 'stable' value: 123 }
            version_labels { key: 'canary' value: 124 }
          }
          config: { name: "other" base_path: "/models/other" model_version_policy: { all: {} } }
          config { name: "latest2" base_path: "/m" model_version_policy { latest { num_versions: 2 } }
                   logging_config { } }
        }
        """);
    ModelSpec hpt = s.models().get("half_plus_two");
    assertEquals("/models/half_plus_two/", hpt.basePath());
    assertEquals(new VersionPolicy.Specific(new TreeSet<>(Set.of(123L, 124L))), hpt.policy());
    assertEquals(Map.of("stable", 123L, "canary", 124L), hpt.labels());
    assertEquals(VersionPolicy.All.INSTANCE, s.models().get("other").policy());
    assertEquals(new VersionPolicy.Latest(2), s.models().get("latest2").policy());
    assertFalse(s.discoverRepository());
  }

  @Test
  void errorsNameTheFileFieldAndValue() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> read("a.conf", "models { m { replicas = 0 } }"));
    assertTrue(e.getMessage().contains("a.conf") && e.getMessage().contains("models.m.replicas")
        && e.getMessage().contains("0"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> read("b.conf", "models { m { version-policy = newest } }"));
    assertTrue(e.getMessage().contains("version-policy") && e.getMessage().contains("newest"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> read("c.conf", "models { m { lables { a = 1 } } }"));
    assertTrue(e.getMessage().contains("'lables'"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> read("d.conf", "models { m { labels { \"bad-label\" = 1 } } }"));
    assertTrue(e.getMessage().contains("bad-label"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> read("e.conf", "models { m { stateful = true, replicas = 2 } }"));
    assertTrue(e.getMessage().contains("stateful"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> read("f.config", "model_config_list { config { name: 'x' base_path: '/x' model_platform: 'onnx' } }"));
    assertTrue(e.getMessage().contains("onnx"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> read("g.config", "model_config_list { config { name: 'x' base_path: } }"));
    assertTrue(e.getMessage().contains("g.config") && e.getMessage().contains("1:"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> ModelConfigFile.read(dir.resolve("missing.conf")));
    assertTrue(e.getMessage().contains("missing.conf"), e.getMessage());
  }

  @Test
  void tfServingEnvironment() {
    assertNull(ModelConfigFile.fromTfServingEnvironment(Map.of()));
    DesiredState s = ModelConfigFile.fromTfServingEnvironment(Map.of("MODEL_NAME", "resnet"));
    assertEquals("/models/resnet", s.models().get("resnet").basePath());
    s = ModelConfigFile.fromTfServingEnvironment(Map.of("MODEL_NAME", "resnet", "MODEL_BASE_PATH", "/srv"));
    assertEquals("/srv/resnet", s.models().get("resnet").basePath());
  }

  @Test
  void policiesSelect() {
    TreeSet<Long> disk = new TreeSet<>(Set.of(1L, 5L, 9L));
    assertEquals(Set.of(9L), new VersionPolicy.Latest(1).select(disk));
    assertEquals(Set.of(5L, 9L), new VersionPolicy.Latest(2).select(disk));
    assertEquals(disk, new VersionPolicy.Latest(7).select(disk));
    assertEquals(disk, VersionPolicy.All.INSTANCE.select(disk));
    assertEquals(Set.of(5L), new VersionPolicy.Specific(new TreeSet<>(Set.of(5L, 6L))).select(disk));
  }

  @Test
  void effectiveSpec_discoveryAndUnloaded() {
    DesiredState s = DesiredState.INITIAL;
    assertEquals(ModelSpec.DEFAULT, s.effective("x", true));
    assertNull(s.effective("x", false));
    s = s.with("x", ModelSpec.DEFAULT.withLoaded(false));
    assertNull(s.effective("x", true));
    assertNull(new DesiredState(false, new java.util.TreeMap<>()).effective("y", true));
  }
}
