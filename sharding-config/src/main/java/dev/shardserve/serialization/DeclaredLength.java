package dev.shardserve.serialization;

import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;

/**
 * Reads a length that a message declares (an element count, a byte count, a string's length) and
 * refuses it, naming the numbers, when the bytes left in the message cannot hold that many
 * elements: a 30-byte frame that declares a 2 GiB array fails with a {@link KryoException}
 * before anything is allocated, never with an {@code OutOfMemoryError}. Every reader of this
 * package takes its lengths from here.
 *
 * <p>The check is exact for fixed-size elements (floats, longs, raw bytes) and a lower bound
 * (at least one byte each) for variable-size ones (varints, strings, nested values). The input
 * is always a whole message in memory (Akka hands the serializer a complete frame), so the bytes
 * left are {@code limit - position}.
 */
final class DeclaredLength {
  private DeclaredLength() {}

  /** The bytes left to read in {@code in}. */
  static long remaining(Input in) {
    return (long) in.limit() - in.position();
  }

  /**
   * Reads a count (an unsigned varint) of elements that take at least {@code minBytesEach}
   * bytes each, and checks it against the bytes left.
   */
  static int read(Input in, int minBytesEach, String what) {
    return check(in, in.readVarInt(true), minBytesEach, what);
  }

  /** Checks an already read count of elements of at least {@code minBytesEach} bytes each. */
  static int check(Input in, long count, int minBytesEach, String what) {
    long left = remaining(in);
    if (count < 0 || count > Integer.MAX_VALUE) {
      throw new KryoException(what + ": declared length " + count + " is not a valid length");
    }
    long needed = count * minBytesEach;
    if (needed > left) {
      throw new KryoException(what + ": declared " + count + " element(s) of at least " + minBytesEach
          + " byte(s) (" + needed + " bytes), but only " + left + " bytes are left in the message");
    }
    return (int) count;
  }

  /**
   * Reads a string written by {@code Output.writeString}, checking the length it declares first.
   * Kryo writes short ASCII strings as bytes whose last one has its high bit set (reading them
   * cannot run past the message), and other strings as a varint with a flag (character count + 1,
   * 0 for null) followed by UTF-8: that count is what a corrupt message could inflate.
   */
  static String readString(Input in, String what) {
    if (remaining(in) > 0 && in.readVarIntFlag()) {
      int start = in.position();
      long declared = Integer.toUnsignedLong(in.readVarIntFlag(true));
      if (declared > 1) {
        check(in, declared - 1, 1, what);
      }
      in.setPosition(start);
    }
    return in.readString();
  }

  /** Reads a byte block: a varint length, then that many bytes. */
  static byte[] readBytes(Input in, String what) {
    return in.readBytes(read(in, 1, what));
  }
}
