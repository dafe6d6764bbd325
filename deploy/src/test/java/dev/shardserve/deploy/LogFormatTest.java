package dev.shardserve.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.logging.LifecycleLog;
import dev.shardserve.logging.RequestContext;
import dev.shardserve.settings.ShardServeConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The product's logback.xml (not the tests' one): text by default, JSON lines with
 * SHARDSERVE_LOG_FORMAT=json (here the system property shardserve.log.format), MDC entries as
 * fields, Akka's own log lines through akka-slf4j in the same format, behind the async appender.
 */
class LogFormatTest {
  private final PrintStream originalOut = System.out;
  private final ByteArrayOutputStream captured = new ByteArrayOutputStream();
  private final LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();

  private void configure(String format) throws Exception {
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    if (format == null) {
      System.clearProperty(LogFormatDefiner.PROPERTY);
    } else {
      System.setProperty(LogFormatDefiner.PROPERTY, format);
    }
    context.reset();
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    configurator.doConfigure(getClass().getClassLoader().getResource("logback.xml"));
  }

  /** Stops the context (the async appender flushes), restores stdout, returns the lines written. */
  private List<String> lines() {
    context.stop();
    System.setOut(originalOut);
    List<String> out = new ArrayList<>();
    for (String l : captured.toString(StandardCharsets.UTF_8).split("\n")) {
      if (!l.isBlank()) {
        out.add(l);
      }
    }
    return out;
  }

  @AfterEach
  void restoreTestLogging() throws Exception {
    System.setOut(originalOut);
    System.clearProperty(LogFormatDefiner.PROPERTY);
    context.reset();
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    configurator.doConfigure(getClass().getClassLoader().getResource("logback-test.xml"));
  }

  @Test
  void json_writesOneObjectPerLine_withMdcFieldsAndLifecycleFields() throws Exception {
    configure("json");
    RequestContext request = RequestContext.fromHeaders("req-42", null);
    try (RequestContext.Scope scope = request.mdc()) {
      LoggerFactory.getLogger("dev.shardserve.test").info("handled");
    }
    LifecycleLog.create().versionLoaded("mlp", 3, Duration.ofMillis(5));
    ObjectMapper json = new ObjectMapper();
    List<JsonNode> objects = new ArrayList<>();
    for (String line : lines()) {
      objects.add(json.readTree(line));
    }
    JsonNode handled = objects.stream().filter(o -> o.path("message").asText().equals("handled")).findFirst()
        .orElseThrow(() -> new AssertionError(objects.toString()));
    assertEquals("INFO", handled.get("level").asText());
    assertEquals("req-42", handled.get("request_id").asText());
    assertEquals(request.trace().traceId(), handled.get("trace_id").asText());
    assertTrue(handled.has("@timestamp"));
    JsonNode loaded = objects.stream().filter(o -> o.path("event").asText().equals("version_loaded")).findFirst()
        .orElseThrow(() -> new AssertionError(objects.toString()));
    assertEquals("mlp", loaded.get("model").asText());
    assertEquals("3", loaded.get("version").asText());
    assertEquals("shardserve.lifecycle", loaded.get("logger_name").asText());
    assertFalse(loaded.has("request_id"));
  }

  @Test
  void json_akkaLogLines_comeThroughAkkaSlf4jAsJson() throws Exception {
    configure("json");
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "log-format",
        ShardServeConfig.load(ConfigFactory.parseString("akka.actor.provider = local")));
    try {
      // Classic logging goes through the event stream to akka-slf4j's Slf4jLogger actor.
      system.classicSystem().log().info("from akka");
      await().atMost(Duration.ofSeconds(10))
          .until(() -> captured.toString(StandardCharsets.UTF_8).contains("from akka"));
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
    ObjectMapper json = new ObjectMapper();
    JsonNode line = null;
    for (String l : lines()) {
      JsonNode o = json.readTree(l);
      if (o.path("message").asText().equals("from akka")) {
        line = o;
      }
    }
    assertTrue(line != null, "Akka's line was not written as JSON");
    assertTrue(line.has("akkaSource"), line.toString());
  }

  @Test
  void byDefault_textLines_withTheRequestIdWhenThereIsOne() throws Exception {
    configure(null);
    try (RequestContext.Scope scope = RequestContext.fromHeaders("req-7", null).mdc()) {
      LoggerFactory.getLogger("dev.shardserve.test").info("with id");
    }
    LoggerFactory.getLogger("dev.shardserve.test").info("without id");
    List<String> lines = lines();
    assertTrue(lines.stream().anyMatch(l -> l.matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  dev.shardserve.test - \\[req-7] with id")),
        lines.toString());
    assertTrue(lines.stream().anyMatch(l -> l.matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  dev.shardserve.test - without id")),
        lines.toString());
  }

  @Test
  void unknownFormat_fallsBackToText() {
    assertEquals("text", new LogFormatDefiner().format("xml"));
    assertEquals("json", new LogFormatDefiner().format(" JSON "));
    assertEquals("text", new LogFormatDefiner().format(null));
  }
}
