package dev.shardserve.gateway.security;

/**
 * What a request path asks for, as the access policy sees it: the scope it needs (null: open) and
 * the model it names (null: none), read from {@code /v1/models/{m}}, {@code /v2/models/{m}},
 * {@code /v2/repository/models/{m}} and {@code /admin/models/{m}}. A path with empty, {@code .} or
 * {@code ..} segments is not canonical: no model is read from it, and a key restricted to some
 * models is refused on it (the route it reaches cannot be told safely).
 */
record RequestTarget(Scope scope, String model, boolean canonical) {

  static final String LIVE = "/v2/health/live";
  static final String READY = "/v2/health/ready";
  static final String METRICS = "/metrics";

  static RequestTarget of(Listener listener, String path) {
    boolean canonical = isCanonical(path);
    switch (listener) {
      case METRICS:
        return new RequestTarget(Scope.METRICS, null, canonical);
      case ADMIN:
        if (path.equals(METRICS)) {
          return new RequestTarget(Scope.METRICS, null, true);
        }
        return new RequestTarget(Scope.ADMIN, canonical ? model(path, "/admin/models/") : null, canonical);
      default:
        if (path.equals(LIVE) || path.equals(READY)) {
          return new RequestTarget(null, null, true);
        }
        if (path.equals(METRICS)) {
          return new RequestTarget(Scope.METRICS, null, true);
        }
        if (path.equals("/v2/repository") || path.startsWith("/v2/repository/")) {
          return new RequestTarget(Scope.ADMIN, canonical ? model(path, "/v2/repository/models/") : null, canonical);
        }
        String model = null;
        if (canonical) {
          model = model(path, "/v1/models/");
          if (model == null) {
            model = model(path, "/v2/models/");
          }
        }
        return new RequestTarget(Scope.INFER, model, canonical);
    }
  }

  /** The segment after {@code prefix}, up to the next '/' or ':' (model names contain neither), or null. */
  static String model(String path, String prefix) {
    if (!path.startsWith(prefix)) {
      return null;
    }
    int start = prefix.length();
    int end = start;
    while (end < path.length() && path.charAt(end) != '/' && path.charAt(end) != ':') {
      end++;
    }
    return end > start ? path.substring(start, end) : null;
  }

  static boolean isCanonical(String path) {
    if (!path.startsWith("/")) {
      return false;
    }
    int i = 1;
    while (i <= path.length()) {
      int next = path.indexOf('/', i);
      if (next < 0) {
        next = path.length();
      }
      String seg = path.substring(i, next);
      boolean last = next == path.length();
      if ((seg.isEmpty() && !last) || seg.equals(".") || seg.equals("..")) {
        return false;
      }
      i = next + 1;
    }
    return true;
  }
}
