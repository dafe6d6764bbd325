package dev.shardserve.gateway.admin;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import dev.shardserve.desired.BatchingSpec;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.desired.VersionPolicy;
import dev.shardserve.protocol.ModelProtocol.ModelStatus;
import dev.shardserve.protocol.ModelProtocol.StatusReply;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.VersionStatus;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** The admin API's JSON: request bodies read as plain maps, models and their replicas' status written out. */
final class AdminJson {
  private static final JsonFactory JSON = new JsonFactory();

  /** One model as the admin API shows it. */
  record ModelView(String name, ModelSpec spec, String source, List<StatusReply> replicas) {}

  private AdminJson() {}

  /** A JSON object body as a map; an empty body is an empty object. */
  static Map<String, Object> object(byte[] body) {
    String text = new String(body, StandardCharsets.UTF_8).trim();
    if (text.isEmpty()) {
      return Map.of();
    }
    if (!text.startsWith("{")) {
      throw new IllegalArgumentException("the request body must be a JSON object, was: " + abbreviate(text));
    }
    try {
      return ConfigFactory.parseString(text, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON))
          .root().unwrapped();
    } catch (ConfigException e) {
      throw new IllegalArgumentException("invalid JSON: " + e.getMessage());
    }
  }

  static byte[] models(List<ModelView> models) {
    return write(g -> {
      g.writeStartObject();
      g.writeArrayFieldStart("models");
      for (ModelView m : models) {
        model(g, m);
      }
      g.writeEndArray();
      g.writeEndObject();
    });
  }

  static byte[] model(ModelView m, Boolean confirmed) {
    return write(g -> {
      g.writeStartObject();
      modelFields(g, m);
      if (confirmed != null) {
        g.writeBooleanField("confirmed_by_all_nodes", confirmed);
      }
      g.writeEndObject();
    });
  }

  static byte[] reloaded(List<String> models, List<String> unloaded, boolean confirmed) {
    return write(g -> {
      g.writeStartObject();
      g.writeArrayFieldStart("models");
      for (String m : models) {
        g.writeString(m);
      }
      g.writeEndArray();
      g.writeArrayFieldStart("unloaded");
      for (String m : unloaded) {
        g.writeString(m);
      }
      g.writeEndArray();
      g.writeBooleanField("confirmed_by_all_nodes", confirmed);
      g.writeEndObject();
    });
  }

  private static void model(JsonGenerator g, ModelView m) throws IOException {
    g.writeStartObject();
    modelFields(g, m);
    g.writeEndObject();
  }

  private static void modelFields(JsonGenerator g, ModelView m) throws IOException {
    ModelSpec s = m.spec();
    g.writeStringField("name", m.name());
    g.writeStringField("source", m.source());
    g.writeBooleanField("loaded", s.loaded());
    g.writeStringField("base_path", s.basePath());
    g.writeFieldName("version_policy");
    policy(g, s.policy());
    g.writeObjectFieldStart("labels");
    for (Map.Entry<String, Long> e : s.labels().entrySet()) {
      g.writeNumberField(e.getKey(), e.getValue());
    }
    g.writeEndObject();
    if (s.replicas() == ModelSpec.AUTO_REPLICAS) {
      g.writeStringField("replicas", "auto");
    } else {
      g.writeNumberField("replicas", s.replicas());
    }
    if (m.replicas() != null) {
      g.writeNumberField("replicas_now", m.replicas().size());
    }
    g.writeBooleanField("stateful", s.stateful());
    BatchingSpec b = s.batching();
    g.writeObjectFieldStart("batching");
    g.writeBooleanField("enabled", b.enabled());
    g.writeNumberField("max_batch_size", b.maxBatchSize());
    g.writeNumberField("max_queue_delay_us", b.maxQueueDelayMicros());
    g.writeNumberField("max_queued_requests", b.maxQueuedRequests());
    g.writeArrayFieldStart("allowed_batch_sizes");
    for (int size : b.allowedBatchSizes()) {
      g.writeNumber(size);
    }
    g.writeEndArray();
    g.writeNumberField("parallel_batches", b.parallelBatches());
    g.writeBooleanField("split_large_requests", b.splitLargeRequests());
    g.writeEndObject();
    g.writeNumberField("request_timeout_ms", s.requestTimeoutMillis());
    g.writeStringField("device", s.device().configName());
    if (m.replicas() != null) {
      g.writeArrayFieldStart("replica_status");
      for (int r = 0; r < m.replicas().size(); r++) {
        g.writeStartObject();
        g.writeNumberField("replica", r);
        StatusReply reply = m.replicas().get(r);
        if (reply instanceof ModelStatus st) {
          g.writeArrayFieldStart("versions");
          for (VersionStatus v : st.versions()) {
            g.writeStartObject();
            g.writeNumberField("version", v.version());
            g.writeStringField("state", v.state().name());
            if (v.errorCode() != null) {
              g.writeStringField("error", v.errorMessage());
            } else if (!v.errorMessage().isEmpty()) {
              g.writeStringField("note", v.errorMessage()); // e.g. the folder cannot be listed now
            }
            g.writeEndObject();
          }
          g.writeEndArray();
          g.writeArrayFieldStart("on_disk");
          for (long v : st.onDisk()) {
            g.writeNumber(v);
          }
          g.writeEndArray();
        } else if (reply instanceof Failure f) {
          g.writeStringField("error", f.code().name() + ": " + f.message());
        }
        g.writeEndObject();
      }
      g.writeEndArray();
    }
  }

  private static void policy(JsonGenerator g, VersionPolicy p) throws IOException {
    g.writeStartObject();
    if (p instanceof VersionPolicy.Latest l) {
      g.writeNumberField("latest", l.count());
    } else if (p instanceof VersionPolicy.Specific s) {
      g.writeArrayFieldStart("specific");
      for (long v : s.versions()) {
        g.writeNumber(v);
      }
      g.writeEndArray();
    } else {
      g.writeObjectFieldStart("all");
      g.writeEndObject();
    }
    g.writeEndObject();
  }

  private interface Writer {
    void write(JsonGenerator g) throws IOException;
  }

  private static byte[] write(Writer w) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(512);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      w.write(g);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static String abbreviate(String s) {
    return s.length() <= 60 ? s : s.substring(0, 60) + "...";
  }
}
