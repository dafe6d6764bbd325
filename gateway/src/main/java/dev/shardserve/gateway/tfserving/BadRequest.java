package dev.shardserve.gateway.tfserving;

/** A request the gateway refuses with 400 and this message (it names the bad value). */
final class BadRequest extends RuntimeException {
  BadRequest(String message) {
    super(message, null, false, false);
  }
}
