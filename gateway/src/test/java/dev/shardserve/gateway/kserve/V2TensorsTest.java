package dev.shardserve.gateway.kserve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.Outputs;
import dev.shardserve.protocol.Tensor;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The binary tensor format: decoding checks sizes and prefixes; encoding writes a request's rows of a batch. */
class V2TensorsTest {

  @Test
  void bytes_decodeEmptyAndZeroElements_andEncodeBack() {
    List<byte[]> elements = List.of(new byte[0], new byte[] {0, 0}, new byte[] {(byte) 0xff});
    byte[] wire = V2Tensors.encodeBytes(elements);
    Tensor t = V2Tensors.decode("s", DType.STRING, new long[] {3}, ByteBuffer.wrap(wire));
    assertEquals(Tensor.ofStrings(new long[] {3}, elements), t);
    ByteBuffer encoded = V2Tensors.encode(Outputs.of(Map.of("s", t)), 0);
    byte[] back = new byte[encoded.remaining()];
    encoded.get(back);
    assertArrayEquals(wire, back);
  }

  @Test
  void numericOutput_encodesTheRequestsRowsOnly_withoutACopy() {
    Tensor batch = Tensor.ofFloats(new long[] {3, 2}, 1, 2, 3, 4, 5, 6);
    Outputs rows = Outputs.of(Map.of("y", batch)).rows(1, 3);
    ByteBuffer b = V2Tensors.encode(rows, 0);
    assertTrue(b.array() == batch.data(), "a view of the batch's buffer");
    byte[] out = new byte[b.remaining()];
    b.get(out);
    assertArrayEquals(Tensor.ofFloats(new long[] {2, 2}, 3, 4, 5, 6).data(), out);
    assertEquals(16, V2Tensors.byteSize(rows, 0));
  }

  @Test
  void wrongSizes_areNamedErrors() {
    V2Exception size = assertThrows(V2Exception.class,
        () -> V2Tensors.decode("x", DType.FLOAT32, new long[] {2, 2}, ByteBuffer.wrap(new byte[12])));
    assertEquals("input 'x' has 12 bytes of binary data, but shape [2, 2] of FP32 needs 16 bytes (4 elements of 4)",
        size.getMessage());
    V2Exception prefix = assertThrows(V2Exception.class, () -> V2Tensors.decode("s", DType.STRING, new long[] {1},
        ByteBuffer.wrap(new byte[] {9, 0, 0, 0, 1})));
    assertTrue(prefix.getMessage().contains("element 0 declares 9 bytes"), prefix.getMessage());
    V2Exception left = assertThrows(V2Exception.class, () -> V2Tensors.decode("s", DType.STRING, new long[] {1},
        ByteBuffer.wrap(new byte[] {0, 0, 0, 0, 7})));
    assertTrue(left.getMessage().contains("1 bytes of binary data left"), left.getMessage());
    V2Exception bool = assertThrows(V2Exception.class,
        () -> V2Tensors.adopt("b", DType.BOOL, new long[] {2}, new byte[] {1, 3}));
    assertTrue(bool.getMessage().contains("element 1 is the byte 3"), bool.getMessage());
    V2Exception shape = assertThrows(V2Exception.class,
        () -> V2Tensors.adopt("x", DType.FLOAT32, new long[] {-1}, new byte[0]));
    assertTrue(shape.getMessage().contains("invalid shape [-1]"), shape.getMessage());
  }
}
