package dev.shardserve.gateway.tfserving;

/**
 * A TF Serving REST path, {@code /v1/models/{m}[/versions/{v}|/labels/{l}][/metadata|:verb]},
 * taken apart by a scan of its characters (no regular expression on the request path). Segments
 * may not contain {@code /} or {@code :}; the verb is letters and underscores. Values are not
 * validated here (model names, version numbers and labels are checked by the caller, with
 * messages that name them).
 *
 * @param version the version segment as sent, or null
 * @param label the label segment as sent, or null
 * @param verb {@code predict}, {@code classify}, ... as sent, or null for a GET path
 */
record V1Path(String model, String version, String label, boolean metadata, String verb) {
  private static final String PREFIX = "/v1/models/";

  /** The parts of {@code path}, or null when it is not of that form (a malformed request). */
  static V1Path parse(String path) {
    if (!path.startsWith(PREFIX)) {
      return null;
    }
    int at = PREFIX.length();
    int end = segmentEnd(path, at);
    if (end == at) {
      return null;
    }
    String model = path.substring(at, end);
    at = end;
    String version = null;
    String label = null;
    if (path.startsWith("/versions/", at) || path.startsWith("/labels/", at)) {
      boolean isVersion = path.startsWith("/versions/", at);
      at += isVersion ? "/versions/".length() : "/labels/".length();
      end = segmentEnd(path, at);
      if (end == at) {
        return null;
      }
      if (isVersion) {
        version = path.substring(at, end);
      } else {
        label = path.substring(at, end);
      }
      at = end;
    }
    if (at == path.length()) {
      return new V1Path(model, version, label, false, null);
    }
    if (path.startsWith("/metadata", at) && at + "/metadata".length() == path.length()) {
      return new V1Path(model, version, label, true, null);
    }
    if (path.charAt(at) != ':' || at + 1 == path.length()) {
      return null;
    }
    for (int i = at + 1; i < path.length(); i++) {
      char c = path.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')) {
        return null;
      }
    }
    return new V1Path(model, version, label, false, path.substring(at + 1));
  }

  private static int segmentEnd(String path, int from) {
    int i = from;
    while (i < path.length() && path.charAt(i) != '/' && path.charAt(i) != ':') {
      i++;
    }
    return i;
  }
}
