package dev.shardserve.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class TensorTest {

  @Test
  void floats_areLittleEndianRowMajor() {
    Tensor t = Tensor.ofFloats(new long[] {1, 2}, 1.0f, -2.0f);
    assertArrayEquals(new byte[] {0, 0, (byte) 0x80, 0x3f, 0, 0, 0, (byte) 0xc0}, t.data());
    assertArrayEquals(new float[] {1.0f, -2.0f}, t.floats());
    assertEquals(2, t.numElements());
  }

  @Test
  void dataOfTheWrongSize_isRejectedNamingShapeAndSize() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Tensor.of(DType.INT32, new long[] {3}, new byte[8]));
    assertTrue(e.getMessage().contains("[3]") && e.getMessage().contains("12") && e.getMessage().contains("8"),
        e.getMessage());
  }

  @Test
  void negativeDimension_isRejected() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Tensor.ofFloats(new long[] {-1}, 1f));
    assertTrue(e.getMessage().contains("[-1]"), e.getMessage());
  }

  @Test
  void stringTensor_needsOneStringPerElement() {
    assertThrows(IllegalArgumentException.class, () -> Tensor.ofStrings(new long[] {2}, List.of(new byte[0])));
    Tensor ok = Tensor.ofStrings(new long[] {1}, List.of(new byte[] {1}));
    assertEquals(ok, Tensor.ofStrings(new long[] {1}, List.of(new byte[] {1})));
    assertNotEquals(ok, Tensor.ofStrings(new long[] {1}, List.of(new byte[] {2})));
  }

  @Test
  void scalar_hasOneElement() {
    assertEquals(1, Tensor.ofDoubles(new long[0], 3.0).numElements());
  }

  @Test
  void toString_neverPrintsData() {
    assertEquals("Tensor[FLOAT32 [1]]", Tensor.ofFloats(new long[] {1}, 42f).toString());
  }

  @Test
  void dtypes_haveStableWireNumbersAndNames() {
    for (DType t : DType.values()) {
      assertEquals(t, DType.fromWire(t.wire()));
      assertEquals(t, DType.fromTfName(t.tfName()));
      assertEquals(t, DType.fromKserveName(t.kserveName()));
    }
    assertEquals(DType.FLOAT32, DType.fromTfName("DT_FLOAT"));
    assertThrows(IllegalArgumentException.class, () -> DType.fromWire(99));
  }

  @Test
  void unknownErrorWireNumber_decodesToInternal() {
    assertEquals(ErrorCode.INTERNAL, ErrorCode.fromWire(999));
    for (ErrorCode c : ErrorCode.values()) {
      assertEquals(c, ErrorCode.fromWire(c.wire()));
    }
    assertTrue(ErrorCode.OVERLOADED.retriable());
    assertTrue(!ErrorCode.INVALID_INPUT.retriable());
  }

  @Test
  void modelNames_followTheRule() {
    assertTrue(ModelName.isValid("half_plus_two"));
    assertTrue(ModelName.isValid("a.b-c_1"));
    for (String bad : new String[] {"", ".", "..", "a/b", "a#1", "x".repeat(129), "a b", null}) {
      assertTrue(!ModelName.isValid(bad), String.valueOf(bad));
    }
  }
}
