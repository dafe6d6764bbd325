package dev.shardserve.gateway.kserve;

/**
 * IEEE 754 half precision ({@code FP16}) and bfloat16 ({@code BF16}) to and from {@code float},
 * for JSON tensor data (binary data carries the 16-bit patterns as they are). Narrowing rounds
 * to nearest, ties to even, as numpy and TensorFlow do.
 */
final class HalfFloats {
  private HalfFloats() {}

  static float fromFloat16(short h) {
    int bits = h & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      float v = mant * 0x1p-24f; // subnormal (or zero)
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
  }

  static short toFloat16(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int abs = bits & 0x7fffffff;
    if (abs >= 0x7f800000) { // infinity or NaN
      return (short) (sign | 0x7c00 | (abs > 0x7f800000 ? 0x200 : 0));
    }
    if (abs >= 0x477ff000) { // rounds to a value >= 65520: infinity
      return (short) (sign | 0x7c00);
    }
    if (abs < 0x38800000) { // below the smallest normal half: subnormal or zero
      float a = Float.intBitsToFloat(abs);
      int m = Math.round(a * 0x1p24f); // Math.round: ties up; correct ties to even below
      float exact = a * 0x1p24f;
      if (exact - (float) Math.floor(exact) == 0.5f && (m & 1) == 1) {
        m--;
      }
      return (short) (sign | m);
    }
    int exp = ((abs >>> 23) - 127 + 15) << 10;
    int mant = abs & 0x7fffff;
    int half = exp | (mant >>> 13);
    int rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1) == 1)) {
      half++;
    }
    return (short) (sign | half);
  }

  static float fromBfloat16(short b) {
    return Float.intBitsToFloat((b & 0xffff) << 16);
  }

  static short toBfloat16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if ((bits & 0x7fffffff) > 0x7f800000) {
      return (short) ((bits >>> 16) | 0x40); // quiet NaN
    }
    int rounding = 0x7fff + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }
}
