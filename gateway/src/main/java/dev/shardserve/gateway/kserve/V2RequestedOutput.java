package dev.shardserve.gateway.kserve;

import java.util.Objects;

/**
 * One output a v2 request asks for, and whether it wants it in the binary format: {@code binary}
 * is the output's {@code binary_data} parameter, or null when the output does not say (then the
 * request's {@code binary_data_output} decides).
 */
public record V2RequestedOutput(String name, Boolean binary) {
  public V2RequestedOutput {
    Objects.requireNonNull(name, "name");
  }
}
