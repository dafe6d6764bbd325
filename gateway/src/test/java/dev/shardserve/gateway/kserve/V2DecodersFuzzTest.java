package dev.shardserve.gateway.kserve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Coverage-guided fuzzing (Jazzer) of the Open Inference Protocol v2 decoders: the JSON request
 * ({@link V2FastDecoder}, then {@link V2RequestDecoder} as the gateway runs them) and binary
 * tensor data ({@link V2Tensors}). Any input must end in a {@link V2Exception} (a 4xx naming the
 * value) or a valid result; any other exception, an error or a hang is a finding. The fast
 * decoder must agree with the full one on every request it decodes, and the two binary entry
 * points with each other.
 */
class V2DecodersFuzzTest {

  @FuzzTest(maxDuration = "10s")
  void jsonRequest(byte[] body) {
    V2Request fast = V2FastDecoder.decode(body, 0, body.length);
    V2Request full;
    try {
      full = V2RequestDecoder.decode(body, 0, body.length);
    } catch (V2Exception e) {
      assertEquals(null, fast, "the fast decoder read a request the full one refuses (" + e.getMessage() + ")");
      return;
    }
    if (fast != null) {
      assertEquals(full, fast, "the fast decoder disagrees with the full one");
    }
    for (V2Request.Input in : full.inputs()) {
      if (in.binary()) {
        assertTrue(in.binaryDataSize() >= 0, in.toString());
      } else {
        assertArrayEquals(in.shape(), in.json().shape(), in.toString());
        assertEquals(in.datatype(), in.json().dtype(), in.toString());
      }
    }
  }

  /**
   * An input is: the datatype's wire number, the rank (0..7), each dimension as a little-endian
   * int (so negative and huge ones too), then the binary data.
   */
  @FuzzTest(maxDuration = "10s")
  void binaryTensor(byte[] input) {
    if (input.length < 2) {
      return;
    }
    DType dtype = DType.values()[(input[0] & 0xff) % DType.values().length];
    int rank = input[1] & 7;
    if (input.length < 2 + 4 * rank) {
      return;
    }
    ByteBuffer header = ByteBuffer.wrap(input, 2, 4 * rank).order(ByteOrder.LITTLE_ENDIAN);
    long[] shape = new long[rank];
    for (int i = 0; i < rank; i++) {
      shape[i] = header.getInt();
    }
    int at = 2 + 4 * rank;
    ByteBuffer data = ByteBuffer.wrap(input, at, input.length - at);
    Tensor decoded = null;
    Tensor adopted = null;
    String refusedBy = null;
    try {
      decoded = V2Tensors.decode("x", dtype, shape, data);
    } catch (V2Exception e) {
      refusedBy = e.getMessage();
    }
    assertEquals(at, data.position(), "decode moved the data's position");
    try {
      adopted = V2Tensors.adopt("x", dtype, shape, Arrays.copyOfRange(input, at, input.length));
    } catch (V2Exception e) {
      assertEquals(null, decoded, "adopt refused what decode read: " + e.getMessage());
      return;
    }
    assertEquals(adopted, decoded, "decode refused what adopt read: " + refusedBy);
    assertArrayEquals(shape, decoded.shape());
    assertEquals(dtype, decoded.dtype());
    byte[] bytes = Arrays.copyOfRange(input, at, input.length);
    if (dtype.isString()) {
      assertArrayEquals(bytes, V2Tensors.encodeBytes(decoded.strings()), "BYTES elements do not encode back");
    } else {
      assertArrayEquals(bytes, decoded.data());
    }
  }
}
