package dev.shardserve.gateway.security;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import dev.shardserve.metrics.ShardServeMetrics;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import java.util.List;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A process's security, built once from {@code shardserve.security} (an Akka extension): TLS for
 * its listeners, the access policy (API keys, JWT) and the failure counts; the key file, JWKS and
 * certificate files are checked for changes every {@code reload-interval}. Listeners get their
 * {@link HttpGate} here; a gRPC server gets {@link #tls()} and {@link #access()}.
 */
public final class Security implements Extension {
  private static final Logger log = LoggerFactory.getLogger(Security.class);

  private final SecuritySettings settings;
  private final TlsContext tls;
  private final AccessPolicy access;

  Security(SecuritySettings settings, LongSupplier nanoTime) {
    this.settings = settings;
    this.tls = settings.tls() == null ? null : TlsContext.create(settings.tls());
    AuthFailures failures = new AuthFailures(nanoTime);
    this.access = settings.authentication() ? new AccessPolicy(authenticator(settings), failures)
        : AccessPolicy.open(failures);
  }

  /**
   * Reads every configured file once, as the start does: a malformed key file line, an unknown
   * scope, a bad JWKS or certificate throws {@link IllegalArgumentException} naming the file and line.
   */
  public static void validate(SecuritySettings settings) {
    new Security(settings, System::nanoTime);
  }

  public static Security get(ActorSystem<?> system) {
    return Id.INSTANCE.apply(system);
  }

  private static Authenticator authenticator(SecuritySettings s) {
    WatchedFile<ApiKeys> keys = s.apiKeysFile() == null ? null : new WatchedFile<>("API key file",
        List.of(s.apiKeysFile()), texts -> ApiKeys.parse(texts.get(0), s.apiKeysFile().toString()));
    WatchedFile<JwtVerifier> jwt = s.jwksFile() == null ? null : new WatchedFile<>("JWKS", List.of(s.jwksFile()),
        texts -> JwtVerifier.create(texts.get(0), s.jwksFile().toString(), s.jwtIssuer(), s.jwtAudience(),
            s.jwtClockSkew()));
    return new Authenticator(keys, jwt);
  }

  public Optional<TlsContext> tls() {
    return Optional.ofNullable(tls);
  }

  public AccessPolicy access() {
    return access;
  }

  /** Refusals by reason, for {@code shardserve_auth_failures_total{reason}}. */
  public AuthFailures failures() {
    return access.failures();
  }

  public SecuritySettings settings() {
    return settings;
  }

  /** The gate of a listener bound to {@code host}: the admin write guard on admin listeners, then the access policy. */
  public HttpGate gate(Listener listener, String host) {
    return new HttpGate(listener, access, listener == Listener.ADMIN ? new AdminWriteGuard(host, tls != null) : null);
  }

  /** Re-reads whatever changed: key file, JWKS, certificate, key and client CA. */
  void refresh() {
    try {
      access.refresh();
      if (tls != null) {
        tls.refresh();
      }
    } catch (RuntimeException e) {
      log.error("security files not reloaded: {}", e.toString());
    }
  }

  /** The extension id: creates {@link Security} from the system's config and schedules its reloads. */
  static final class Id extends ExtensionId<Security> {
    static final Id INSTANCE = new Id();

    @Override
    public Security createExtension(ActorSystem<?> system) {
      SecuritySettings settings = SecuritySettings.fromConfig(system.settings().config());
      Security s = new Security(settings, System::nanoTime);
      AuthFailures failures = s.failures();
      CounterWithCallback.builder().name("shardserve_auth_failures_total")
          .help("Requests refused by authentication or scopes (401, 403, gRPC UNAUTHENTICATED, PERMISSION_DENIED), "
              + "by reason; every reason from 0.")
          .labelNames("reason")
          .callback(cb -> failures.snapshot().forEach((reason, n) -> cb.call(n, reason.label())))
          .register(ShardServeMetrics.get(system).registry());
      if (settings.tls() != null || settings.authentication()) {
        system.scheduler().scheduleWithFixedDelay(settings.reloadInterval(), settings.reloadInterval(), s::refresh,
            system.dispatchers().lookup(DispatcherSelector.blocking()));
      }
      log.info("security: TLS {}, authentication {}", settings.tls() == null ? "off"
          : "on" + (settings.tls().clientCaFile() != null ? " (mutual)" : ""),
          !settings.authentication() ? "off (every route is open)"
              : (settings.apiKeysFile() != null ? "API keys" : "") + (settings.apiKeysFile() != null
                  && settings.jwksFile() != null ? " and " : "") + (settings.jwksFile() != null ? "JWT" : ""));
      return s;
    }
  }
}
