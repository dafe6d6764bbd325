package dev.shardserve.gateway.security;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Refuses admin writes that a web page open in a browser on the same host could forge: a write
 * ({@code POST}, {@code PUT}, {@code DELETE}, {@code PATCH}, ...) with an {@code Origin} that is
 * not the admin listener's own (403), with {@code Sec-Fetch-Site: cross-site} (403), or with a
 * body of a type a page can send without a CORS preflight ({@code text/plain},
 * {@code application/x-www-form-urlencoded}, {@code multipart/form-data}: 415). Requests without
 * a body or with JSON (curl, scripts, clients) pass; reads pass. The listener sends no CORS
 * headers, so a page cannot read answers either.
 *
 * <p>The listener's own origin is its scheme, a loopback name ({@code 127.0.0.1},
 * {@code localhost}, {@code ::1}) or the host it binds, and the port the request was sent to (from
 * {@code Host}). A listener bound to every interface also accepts the {@code Host} name itself;
 * such a listener needs API keys (a DNS-rebinding page shares that name).
 */
final class AdminWriteGuard {
  private static final Set<String> SAFE_METHODS = Set.of("GET", "HEAD", "OPTIONS");
  private static final Set<String> FORGEABLE_TYPES = Set.of("text/plain", "application/x-www-form-urlencoded",
      "multipart/form-data");

  /** A refused request: the status (403 or 415) and a message naming the reason. */
  record Refusal(int status, String message) {}

  private final String scheme;
  private final String boundHost;
  private final boolean wildcard;

  AdminWriteGuard(String boundHost, boolean tls) {
    this.scheme = tls ? "https" : "http";
    this.boundHost = hostOnly(boundHost);
    this.wildcard = this.boundHost.equals("0.0.0.0") || this.boundHost.equals("::") || this.boundHost.isEmpty();
  }

  /**
   * @param mediaType the body's media type ({@code type/subtype}, lower case), or null when the
   *     request has no body
   */
  Optional<Refusal> check(String method, Optional<String> origin, Optional<String> secFetchSite,
      Optional<String> hostHeader, String mediaType) {
    if (SAFE_METHODS.contains(method.toUpperCase(Locale.ROOT))) {
      return Optional.empty();
    }
    if (secFetchSite.isPresent() && secFetchSite.get().strip().equalsIgnoreCase("cross-site")) {
      return Optional.of(new Refusal(403, "admin writes are refused from cross-site browser requests "
          + "(Sec-Fetch-Site: cross-site)"));
    }
    if (origin.isPresent() && !isOwn(origin.get().strip(), hostHeader)) {
      return Optional.of(new Refusal(403, "admin writes are refused from origin '" + origin.get().strip()
          + "': only this listener's own origin may write (use curl or a script without an Origin header)"));
    }
    if (mediaType != null && FORGEABLE_TYPES.contains(mediaType)) {
      return Optional.of(new Refusal(415, "admin write bodies must be application/json, not " + mediaType
          + " (a browser page can send " + mediaType + " to any host)"));
    }
    return Optional.empty();
  }

  private boolean isOwn(String origin, Optional<String> hostHeader) {
    if (hostHeader.isEmpty()) {
      return false;
    }
    URI o;
    URI h;
    try {
      o = new URI(origin);
      h = new URI(scheme + "://" + hostHeader.get().strip());
    } catch (URISyntaxException e) {
      return false;
    }
    if (!scheme.equalsIgnoreCase(o.getScheme()) || o.getHost() == null || h.getHost() == null
        || (o.getPath() != null && !o.getPath().isEmpty())) {
      return false;
    }
    if (port(o) != port(h)) {
      return false;
    }
    String host = hostOnly(o.getHost());
    return host.equals("127.0.0.1") || host.equals("localhost") || host.equals("::1") || host.equals(boundHost)
        || (wildcard && host.equals(hostOnly(h.getHost())));
  }

  private int port(URI u) {
    return u.getPort() >= 0 ? u.getPort() : scheme.equals("https") ? 443 : 80;
  }

  private static String hostOnly(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    return h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
  }
}
