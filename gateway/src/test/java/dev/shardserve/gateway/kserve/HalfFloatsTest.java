package dev.shardserve.gateway.kserve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** FP16 and BF16 conversions: exact for representable values, round to nearest even, specials kept. */
class HalfFloatsTest {

  @Test
  void everyHalf_roundTripsThroughFloat() {
    for (int h = 0; h < 0x10000; h++) {
      float f = HalfFloats.fromFloat16((short) h);
      if (Float.isNaN(f)) {
        assertTrue(Float.isNaN(HalfFloats.fromFloat16(HalfFloats.toFloat16(f))));
        continue;
      }
      assertEquals((short) h, HalfFloats.toFloat16(f), "half 0x" + Integer.toHexString(h));
    }
  }

  @Test
  void float16_roundsToNearestEven_andOverflowsToInfinity() {
    assertEquals((short) 0x3c00, HalfFloats.toFloat16(1.0f + 0x1p-11f)); // tie: stays even
    assertEquals((short) 0x3c02, HalfFloats.toFloat16(1.0f + 3 * 0x1p-11f)); // tie: rounds up to even
    assertEquals((short) 0x7c00, HalfFloats.toFloat16(65520f));
    assertEquals((short) 0x7bff, HalfFloats.toFloat16(65519f));
    assertEquals((short) 0x0001, HalfFloats.toFloat16(0x1p-24f));
    assertEquals((short) 0x0000, HalfFloats.toFloat16(0x1p-25f)); // tie to even (zero)
  }

  @Test
  void bfloat16_isTheTop16Bits_roundedToNearestEven() {
    assertEquals((short) 0x3f80, HalfFloats.toBfloat16(1.0f));
    assertEquals(3.140625f, HalfFloats.fromBfloat16(HalfFloats.toBfloat16(3.14159f)));
    assertTrue(Float.isNaN(HalfFloats.fromBfloat16(HalfFloats.toBfloat16(Float.NaN))));
  }
}
