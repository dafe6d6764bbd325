package dev.shardserve.node.repository;

import akka.Done;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.ddata.LWWMap;
import akka.cluster.ddata.SelfUniqueAddress;
import akka.cluster.ddata.typed.javadsl.DistributedData;
import akka.cluster.ddata.typed.javadsl.Replicator;
import akka.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;
import akka.cluster.typed.Cluster;
import dev.shardserve.protocol.ModelCatalog;
import dev.shardserve.protocol.ModelCatalog.NodeModels;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Publishes the models this node's repository holds into {@link ModelCatalog} (Distributed
 * Data), under this node's address: at start, then whenever a scan finds a change. The gateway
 * routes only models that some member node has published. {@code firstPublished} completes
 * when the first write is in the local replica.
 */
public final class ModelCatalogPublisher {
  public interface Message {}

  private enum Scan implements Message {
    INSTANCE
  }

  private record Written(Replicator.UpdateResponse<LWWMap<String, NodeModels>> response, Set<String> models)
      implements Message {}

  private ModelCatalogPublisher() {}

  public static Behavior<Message> create(ModelRepository repository, Duration interval,
      CompletableFuture<Done> firstPublished) {
    return Behaviors.setup(ctx -> DistributedData.withReplicatorMessageAdapter(
        (ReplicatorMessageAdapter<Message, LWWMap<String, NodeModels>> replicator) ->
            Behaviors.withTimers(timers -> {
              SelfUniqueAddress self = DistributedData.get(ctx.getSystem()).selfUniqueAddress();
              String nodeKey = Cluster.get(ctx.getSystem()).selfMember().address().toString();
              timers.startTimerWithFixedDelay(Scan.INSTANCE, interval);
              ctx.getSelf().tell(Scan.INSTANCE);
              return publishing(ctx.getLog(), repository, replicator, self, nodeKey, null, firstPublished);
            })));
  }

  private static Behavior<Message> publishing(org.slf4j.Logger log, ModelRepository repository,
      ReplicatorMessageAdapter<Message, LWWMap<String, NodeModels>> replicator, SelfUniqueAddress self,
      String nodeKey, Set<String> published, CompletableFuture<Done> firstPublished) {
    return Behaviors.receive(Message.class)
        .onMessageEquals(Scan.INSTANCE, () -> {
          Set<String> models = Set.copyOf(repository.models());
          if (!models.equals(published)) {
            replicator.askUpdate(
                replyTo -> new Replicator.Update<>(ModelCatalog.KEY, LWWMap.empty(), Replicator.writeLocal(), replyTo,
                    map -> map.put(self, nodeKey, new NodeModels(models))),
                response -> new Written(response, models));
          }
          return Behaviors.same();
        })
        .onMessage(Written.class, w -> {
          if (w.response() instanceof Replicator.UpdateSuccess) {
            log.info("published models {} from {}", w.models(), repository.root());
            firstPublished.complete(Done.getInstance());
            return publishing(log, repository, replicator, self, nodeKey, w.models(), firstPublished);
          }
          log.warn("could not publish the model catalog: {}", w.response());
          return Behaviors.same();
        })
        .build();
  }
}
