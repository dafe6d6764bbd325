package dev.shardserve.deploy;

/** A {@code host:port} given on the command line, checked with a message naming the value. */
record HostPort(String host, int port) {
  static HostPort parse(String value, String option) {
    int colon = value.lastIndexOf(':');
    if (colon <= 0 || colon == value.length() - 1) {
      throw new IllegalArgumentException(option + " expects HOST:PORT, got '" + value + "'");
    }
    try {
      int port = Integer.parseInt(value.substring(colon + 1));
      if (port < 1 || port > 65535) {
        throw new NumberFormatException();
      }
      return new HostPort(value.substring(0, colon), port);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " expects a port from 1 to 65535, got '" + value + "'");
    }
  }

  @Override
  public String toString() {
    return host + ":" + port;
  }
}
