package dev.shardserve.gateway.kserve;

import dev.shardserve.protocol.Tensor;
import java.util.Objects;

/** One input of a v2 inference request, decoded: its name and its tensor in the declared datatype. */
public record V2Input(String name, Tensor tensor) {
  public V2Input {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(tensor, "tensor");
  }
}
