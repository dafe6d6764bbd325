#!/bin/bash
# The image's HEALTHCHECK: GET /ready on Akka Management, with bash alone (no curl in the image).
# Exit 0 when it answers 200.
host="${SHARDSERVE_MANAGEMENT_HOST:-127.0.0.1}"
[ "$host" = 0.0.0.0 ] && host=127.0.0.1
port="${SHARDSERVE_MANAGEMENT_PORT:-8558}"
exec 3<>"/dev/tcp/$host/$port" || exit 1
printf 'GET /ready HTTP/1.0\r\nHost: %s\r\n\r\n' "$host" >&3
IFS= read -r -t 2 status <&3 || exit 1
case "$status" in
  "HTTP/1."?" 200"*) exit 0 ;;
  *) exit 1 ;;
esac
