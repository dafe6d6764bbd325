package dev.shardserve.dataplane;

import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.ModelProtocol.InferReply;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A model replica's door for requests on this node: the thread that decoded a request submits it
 * here, with no actor, ask or mailbox on the way. The replica actor (the control plane) publishes
 * a handle in {@link ReplicaHandles} while it serves and closes it when it stops; a handle stays
 * safe to call after it was closed (it refuses).
 *
 * <p>Contract: {@link #submit} never throws, and {@code reply} is called exactly once for every
 * call: at once on the calling thread when the call is refused (bad input, full queue, a closed
 * handle: {@code UNAVAILABLE}, which another replica may serve), otherwise on a runtime thread once
 * the call ran, expired or its replica stopped. Every accepted call is answered by exactly one
 * version.
 */
public interface ReplicaHandle {

  void submit(InferCall call, Consumer<InferReply> reply);

  /**
   * The dtype of each input (by alias) of {@code signature} in the version that answers requests
   * naming no version, or null when not known: the gateway decodes JSON straight into these.
   */
  Map<String, DType> inputTypes(String signature);
}
