package dev.shardserve.gateway.openapi;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpMethods;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import dev.shardserve.gateway.errors.HttpErrors;
import dev.shardserve.protocol.ErrorCode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * An OpenAPI 3 document of one listener's REST routes, kept in the repository as a resource
 * ({@code gateway/src/main/resources/dev/shardserve/gateway/openapi/*.json}) and served at
 * {@code GET /openapi.json}: {@link #INFERENCE} (TF Serving v1 and Open Inference Protocol v2)
 * on the inference port, {@link #ADMIN} (the admin API and the model repository extension) on the
 * admin listener.
 */
public final class OpenApiDocument {
  public static final String PATH = "/openapi.json";
  /** The route that serves a document, on both listeners. */
  public static final ApiRoute ROUTE = ApiRoute.get(PATH);

  public static final OpenApiDocument INFERENCE = load("inference.json");
  public static final OpenApiDocument ADMIN = load("admin.json");

  private final String resource;
  private final byte[] json;

  private OpenApiDocument(String resource, byte[] json) {
    this.resource = resource;
    this.json = json;
  }

  private static OpenApiDocument load(String name) {
    try (InputStream in = OpenApiDocument.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("OpenAPI document " + name + " is missing from the gateway's resources");
      }
      return new OpenApiDocument(name, in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the OpenAPI document " + name, e);
    }
  }

  /** The document's JSON text. */
  public byte[] json() {
    return json.clone();
  }

  public String resource() {
    return resource;
  }

  /** Answers {@code GET /openapi.json}; any other method is 405. */
  public CompletionStage<HttpResponse> handle(HttpRequest request) {
    if (!request.method().equals(HttpMethods.GET)) {
      return CompletableFuture.completedFuture(HttpErrors.of(ErrorCode.METHOD_NOT_ALLOWED,
          request.method().value() + " is not allowed on " + PATH + ": use GET"));
    }
    return CompletableFuture.completedFuture(HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, json));
  }
}
