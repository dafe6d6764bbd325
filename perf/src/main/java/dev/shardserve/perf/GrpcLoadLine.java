package dev.shardserve.perf;

import java.nio.ByteBuffer;

/**
 * The result line of a {@link GrpcLoad} run, written by that JVM and read by the suite's. A class
 * of its own, without gRPC: the suite runs from the perf jar alone, which has no gRPC classes (a
 * method of {@code GrpcLoad} could not even be linked there).
 */
final class GrpcLoadLine {
  private GrpcLoadLine() {}

  static String encode(org.HdrHistogram.Histogram h) {
    ByteBuffer b = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
    int n = h.encodeIntoCompressedByteBuffer(b);
    return java.util.Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(b.array(), n));
  }

  static org.HdrHistogram.Histogram decode(String s) throws java.util.zip.DataFormatException {
    return org.HdrHistogram.Histogram.decodeFromCompressedByteBuffer(
        ByteBuffer.wrap(java.util.Base64.getDecoder().decode(s)), 0);
  }

  /** Reads the result line {@link #main} printed. */
  static LoadResult parse(String name, double seconds, String line) throws java.util.zip.DataFormatException {
    String[] f = line.split(" ");
    java.util.Map<Integer, Long> byStatus = new java.util.TreeMap<>();
    if (!f[2].equals("-")) {
      for (String kv : f[2].split(",")) {
        String[] p = kv.split("=");
        byStatus.put(Integer.parseInt(p[0]), Long.parseLong(p[1]));
      }
    }
    org.HdrHistogram.Histogram refused = decode(f[4]);
    return new LoadResult(name, seconds, decode(f[3]), refused, refused, byStatus, 0, Long.parseLong(f[1]));
  }

}
