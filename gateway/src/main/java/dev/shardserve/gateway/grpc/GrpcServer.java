package dev.shardserve.gateway.grpc;

import akka.Done;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import dev.shardserve.concurrent.Ticker;
import dev.shardserve.desired.DesiredStateStore;
import dev.shardserve.gateway.GatewaySettings;
import dev.shardserve.gateway.admission.Admission;
import dev.shardserve.gateway.proto.kserve.GRPCInferenceServiceGrpc;
import dev.shardserve.gateway.proto.tfserving.ModelServiceGrpc;
import dev.shardserve.gateway.proto.tfserving.PredictionServiceGrpc;
import dev.shardserve.gateway.routing.ModelRouter;
import dev.shardserve.gateway.security.Security;
import dev.shardserve.gateway.security.TlsContext;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one gRPC listener of a gateway: TF Serving's PredictionService and ModelService, KServe's
 * GRPCInferenceService, {@code grpc.health.v1.Health} and server reflection (v1 and v1alpha, for
 * grpcurl and load balancers), on grpc-java's Netty transport, with the message limit,
 * keep-alive and stream limits of {@link GrpcSettings}.
 *
 * <p>Security hook: the {@code interceptors} given to {@link #start} wrap every service except
 * health (load balancers probe without credentials), first in the list runs first; an
 * authentication interceptor belongs there, and {@link #ADMIN_METHODS} names the calls that need
 * the admin scope. TLS: a transport security setting on the builder ({@link #configure}).
 *
 * <p>Shutdown (Coordinated Shutdown): at service-unbind health turns NOT_SERVING and the server
 * stops taking calls; at service-requests-done the calls in flight get the drain time to finish,
 * then the rest are cancelled.
 */
public final class GrpcServer {
  private static final Logger log = LoggerFactory.getLogger(GrpcServer.class);

  /** Calls that change what the cluster serves: they need the admin scope when authentication is on. */
  public static final Set<String> ADMIN_METHODS =
      Set.of(ModelServiceGrpc.getHandleReloadConfigRequestMethod().getFullMethodName());

  private final Server server;
  private final Services services;
  private final ModelHealth health;
  private final ExecutorService pool;
  private final Duration drain;

  private GrpcServer(Server server, Services services, ExecutorService pool, Duration drain) {
    this.server = server;
    this.services = services;
    this.health = services.health;
    this.pool = pool;
    this.drain = drain;
  }

  /** The services, ready to be added to any server builder (tests use an in-process one). */
  public static final class Services {
    private final List<ServerServiceDefinition> definitions;
    private final ModelHealth health;

    Services(List<ServerServiceDefinition> definitions, ModelHealth health) {
      this.definitions = definitions;
      this.health = health;
    }

    public List<ServerServiceDefinition> definitions() {
      return definitions;
    }

    /** Reads the routing snapshot into the health statuses (the server does this twice a second). */
    public void refreshHealth() {
      health.refresh();
    }
  }

  public static Services services(ModelRouter router, Admission admission, GatewaySettings gateway,
      GrpcSettings grpc, DesiredStateStore store, List<ServerInterceptor> interceptors) {
    GrpcInference inference = new GrpcInference(router, admission, gateway, Ticker.SYSTEM);
    String version = GrpcServer.class.getPackage().getImplementationVersion();
    List<BindableService> guarded = List.of(
        new TfServingPredictionService(inference, grpc.tensorContentOutputs()),
        new TfServingModelService(router, store, gateway.controlTimeout()),
        new KserveInferenceService(inference, version == null ? "development build" : version),
        ProtoReflectionServiceV1.newInstance(),
        reflectionV1Alpha());
    ModelHealth health = new ModelHealth(router, List.of(PredictionServiceGrpc.SERVICE_NAME,
        ModelServiceGrpc.SERVICE_NAME, GRPCInferenceServiceGrpc.SERVICE_NAME));
    List<ServerServiceDefinition> out = new ArrayList<>();
    for (BindableService s : guarded) {
      out.add(ServerInterceptors.intercept(s, reversed(interceptors)));
    }
    out.add(health.manager().getHealthService().bindService());
    return new Services(List.copyOf(out), health);
  }

  /** ServerInterceptors.intercept runs the last one first: reverse, so that the first in the list runs first. */
  private static List<ServerInterceptor> reversed(List<ServerInterceptor> interceptors) {
    List<ServerInterceptor> r = new ArrayList<>(interceptors);
    java.util.Collections.reverse(r);
    return r;
  }

  @SuppressWarnings("deprecation")
  private static BindableService reflectionV1Alpha() {
    return ProtoReflectionService.newInstance(); // grpcurl before 1.9 and many tools ask v1alpha only
  }

  /** Applies {@code grpc}'s limits, keep-alive and executor to a Netty server builder. */
  static ExecutorService configure(NettyServerBuilder b, GrpcSettings grpc) {
    b.maxInboundMessageSize(grpc.maxMessageBytes())
        .keepAliveTime(grpc.keepAliveTime().toMillis(), TimeUnit.MILLISECONDS)
        .keepAliveTimeout(grpc.keepAliveTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .permitKeepAliveTime(grpc.permitKeepAliveTime().toMillis(), TimeUnit.MILLISECONDS)
        .permitKeepAliveWithoutCalls(grpc.permitKeepAliveWithoutCalls())
        .maxConcurrentCallsPerConnection(grpc.maxConcurrentStreams());
    if (!grpc.maxConnectionIdle().isZero()) {
      b.maxConnectionIdle(grpc.maxConnectionIdle().toMillis(), TimeUnit.MILLISECONDS);
    }
    if (grpc.directExecutor()) {
      b.directExecutor();
      return null;
    }
    AtomicInteger n = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors(), r -> {
      Thread t = new Thread(r, "grpc-handler-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    b.executor(pool);
    return pool;
  }

  /**
   * Binds the listener and registers its shutdown; throws IOException when the port cannot be
   * bound. Health is refreshed from the routing snapshot twice a second.
   */
  public static GrpcServer start(ActorSystem<?> system, ModelRouter router, Admission admission,
      GatewaySettings gateway, GrpcSettings grpc, DesiredStateStore store, List<ServerInterceptor> interceptors)
      throws IOException {
    Services services = services(router, admission, gateway, grpc, store, interceptors);
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(grpc.host(), grpc.port()));
    ExecutorService pool = configure(builder, grpc);
    Optional<TlsContext> tls = Security.get(system).tls();
    if (tls.isPresent()) {
      builder.sslContext(sslContext(tls.get()));
    }
    services.definitions().forEach(builder::addService);
    Server server = builder.build();
    try {
      server.start();
    } catch (IOException e) {
      if (pool != null) {
        pool.shutdownNow();
      }
      throw e;
    }
    GrpcServer g = new GrpcServer(server, services, pool, grpc.drainTimeout());
    system.scheduler().scheduleWithFixedDelay(Duration.ofMillis(500), Duration.ofMillis(500),
        services::refreshHealth, system.executionContext());
    CoordinatedShutdown cs = CoordinatedShutdown.get(system.classicSystem());
    cs.addTask(CoordinatedShutdown.PhaseServiceUnbind(), "grpc-stop-taking-calls", () -> {
      g.stopTakingCalls();
      return CompletableFuture.completedFuture(Done.getInstance());
    });
    cs.addTask(CoordinatedShutdown.PhaseServiceRequestsDone(), "grpc-drain", () -> g.drain());
    log.info("gRPC (TF Serving PredictionService/ModelService, KServe GRPCInferenceService, health, reflection) "
        + "listening on {}:{}{}", grpc.host(), server.getPort(), tls.isPresent()
            ? " with TLS" + (tls.get().mutual() ? " (client certificates required)" : "") : " (plaintext)");
    return g;
  }

  /** The interceptor that charges unary calls' messages to the gateway's byte budget (REST's too). */
  public static ServerInterceptor byteBudget(dev.shardserve.gateway.admission.ByteBudget budget) {
    return new GrpcByteBudget(budget);
  }

  /** The interceptor that authenticates calls and checks scopes and models with {@code policy}. */
  public static ServerInterceptor access(java.util.function.Supplier<dev.shardserve.gateway.security.AccessPolicy> policy) {
    return new GrpcAccess(policy);
  }

  /**
   * The gRPC port's TLS: the same reloading key manager, client CA, protocols and ciphers as the
   * HTTP listeners (JDK provider, ALPN h2); client certificates required with mutual TLS.
   */
  static SslContext sslContext(TlsContext tls) throws IOException {
    SslContextBuilder b = GrpcSslContexts.configure(SslContextBuilder.forServer(tls.keyManager()), SslProvider.JDK)
        .protocols(tls.protocols())
        .ciphers(tls.cipherSuites());
    if (tls.mutual()) {
      b.trustManager(tls.clientTrustManager()).clientAuth(ClientAuth.REQUIRE);
    }
    return b.build();
  }

  /** The services this server runs (tests mount them on an in-process server too). */
  public Services services() {
    return services;
  }

  public int port() {
    return server.getPort();
  }

  /** Health NOT_SERVING, no new calls; calls in flight go on. */
  public void stopTakingCalls() {
    health.terminate();
    server.shutdown();
  }

  /** Completes once the calls in flight finished, or after the drain time with the rest cancelled. */
  public CompletableFuture<Done> drain() {
    server.shutdown();
    CompletableFuture<Done> done = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try {
        if (!server.awaitTermination(drain.toMillis(), TimeUnit.MILLISECONDS)) {
          log.warn("gRPC calls still running after the drain time of {}: cancelling them", drain);
          server.shutdownNow();
          server.awaitTermination(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        server.shutdownNow();
      } finally {
        if (pool != null) {
          pool.shutdown();
        }
        done.complete(Done.getInstance());
      }
    }, "grpc-drain");
    t.setDaemon(true);
    t.start();
    return done;
  }

  /** Stops at once (tests). */
  public void close() {
    health.terminate();
    server.shutdownNow();
    if (pool != null) {
      pool.shutdownNow();
    }
  }
}
