package dev.shardserve.gateway.kserve;

/**
 * An Open Inference Protocol REST path, taken apart by a scan of its characters (no regular
 * expression on the request path): {@code /v2}, {@code /v2/health/live|ready},
 * {@code /v2/models/{m}[/versions/{v}][/ready|/infer]}. Values are not validated here.
 *
 * @param version the version segment as sent, or null
 */
record V2Path(V2Route route, String model, String version) {
  private static final String MODELS = "/v2/models/";

  /** The parts of {@code path}, or null when it is not a v2 route. */
  static V2Path parse(String path) {
    switch (path) {
      case "/v2", "/v2/" -> {
        return new V2Path(V2Route.SERVER_METADATA, null, null);
      }
      case "/v2/health/live" -> {
        return new V2Path(V2Route.SERVER_LIVE, null, null);
      }
      case "/v2/health/ready" -> {
        return new V2Path(V2Route.SERVER_READY, null, null);
      }
      default -> { }
    }
    if (!path.startsWith(MODELS)) {
      return null;
    }
    int at = MODELS.length();
    int end = path.indexOf('/', at);
    if (end < 0) {
      end = path.length();
    }
    if (end == at) {
      return null;
    }
    String model = path.substring(at, end);
    String version = null;
    at = end;
    if (path.startsWith("/versions/", at)) {
      at += "/versions/".length();
      end = path.indexOf('/', at);
      if (end < 0) {
        end = path.length();
      }
      if (end == at) {
        return null;
      }
      version = path.substring(at, end);
      at = end;
    }
    String rest = path.substring(at);
    boolean versioned = version != null;
    return switch (rest) {
      case "" -> new V2Path(versioned ? V2Route.VERSION_METADATA : V2Route.MODEL_METADATA, model, version);
      case "/ready" -> new V2Path(versioned ? V2Route.VERSION_READY : V2Route.MODEL_READY, model, version);
      case "/infer" -> new V2Path(versioned ? V2Route.VERSION_INFER : V2Route.MODEL_INFER, model, version);
      default -> null;
    };
  }
}
