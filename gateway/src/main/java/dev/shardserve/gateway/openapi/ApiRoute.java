package dev.shardserve.gateway.openapi;

import java.util.Objects;

/**
 * One REST route a listener binds: an HTTP method and an OpenAPI path template such as
 * {@code /v2/models/{model_name}/infer}. Every API class lists the routes its handler serves,
 * and the OpenAPI documents must name exactly those (a test walks the server to check both).
 */
public record ApiRoute(String method, String path) {
  public ApiRoute {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(path, "path");
  }

  public static ApiRoute get(String path) {
    return new ApiRoute("GET", path);
  }

  public static ApiRoute post(String path) {
    return new ApiRoute("POST", path);
  }

  public static ApiRoute put(String path) {
    return new ApiRoute("PUT", path);
  }

  public static ApiRoute delete(String path) {
    return new ApiRoute("DELETE", path);
  }

  @Override
  public String toString() {
    return method + " " + path;
  }
}
