package dev.shardserve.gateway.kserve;

import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A v2 inference request's JSON object as decoded ({@code $inference_request}): the id to echo,
 * the request parameters (values are String, Long, Double or Boolean), the inputs as declared,
 * and the requested outputs.
 *
 * @param id the request's {@code id}, or null when it sent none
 */
record V2Request(String id, Map<String, Object> parameters, List<Input> inputs, List<V2RequestedOutput> outputs) {

  /**
   * One input as the JSON declares it: its data decoded from JSON ({@code json}), or
   * {@code binaryDataSize} bytes of the binary section after the JSON (then {@code json} is null).
   */
  record Input(String name, DType datatype, long[] shape, long binaryDataSize, Tensor json) {
    Input {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(datatype, "datatype");
      Objects.requireNonNull(shape, "shape");
    }

    boolean binary() {
      return json == null;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Input i && name.equals(i.name) && datatype == i.datatype && Arrays.equals(shape, i.shape)
          && binaryDataSize == i.binaryDataSize && Objects.equals(json, i.json);
    }

    @Override
    public int hashCode() {
      return Objects.hash(name, datatype, Arrays.hashCode(shape), binaryDataSize, json);
    }

    @Override
    public String toString() {
      return name + ":" + datatype.kserveName() + Arrays.toString(shape) + (binary() ? " binary " + binaryDataSize
          : " json");
    }
  }

  /** True when the request asks for output {@code o} in the binary format. */
  boolean binary(V2RequestedOutput o) {
    return o != null && o.binary() != null ? o.binary() : binaryDataOutput();
  }

  /** The request-level {@code binary_data_output} parameter (default false). */
  boolean binaryDataOutput() {
    return Boolean.TRUE.equals(parameters.get("binary_data_output"));
  }
}
