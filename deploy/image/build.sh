#!/usr/bin/env bash
# Builds the shardserve image from deploy/image/Dockerfile and writes it as a Docker archive,
# deploy/target/shardserve-image.tar (`docker load -i` reads it).
#
#   deploy/image/build.sh [--base-image REF] [--tag TAG] [--version VERSION]
#
# --base-image  the Java 17 image to build on (default: the Dockerfile's, a maintained JRE image;
#               on a machine without registry access use deploy/image/local-base.sh's image,
#               localhost/shardserve-base:17)
# --tag         image name (default shardserve:VERSION)
# --version     image version = akka.cluster.app-version in the image (default: the project's)
#
# With a Docker daemon (`docker info` answers) it uses docker; otherwise buildah (installed with
# apt-get when missing; needs no daemon), with --format docker because the OCI format drops
# HEALTHCHECK. BUILDAH_ISOLATION chooses buildah's isolation for RUN (default chroot, which works
# as root without a container runtime's namespaces). The jar is built first when missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
base=""
tag=""
version=""
while [ $# -gt 0 ]; do
  case "$1" in
    --base-image) base="$2"; shift 2 ;;
    --tag) tag="$2"; shift 2 ;;
    --version) version="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "build: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
die() { echo "build: $*" >&2; exit 1; }

# The project's version: the first <version> of the parent pom (its own).
[ -n "$version" ] || version="$(sed -n 's:.*<version>\([^<]*\)</version>.*:\1:p' "$here/pom.xml" | head -1)"
[[ "$version" =~ ^[0-9]+(\.[0-9]+){0,2}([-+][0-9A-Za-z.+-]*)?$ ]] \
  || die "--version must be a version number such as 1.2.3 (it becomes akka.cluster.app-version), was '$version'"
[ -n "$tag" ] || tag="shardserve:$version"

jar="$here/deploy/target/shardserve.jar"
if [ ! -f "$jar" ]; then
  echo "build: building $jar" >&2
  (cd "$here" && mvn -q -B -DskipTests package) >&2
fi

args=(--build-arg "VERSION=$version")
[ -n "$base" ] && args+=(--build-arg "BASE_IMAGE=$base")
out="$here/deploy/target/shardserve-image.tar"
rm -f "$out"
start=$SECONDS

if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  echo "build: docker build -t $tag" >&2
  docker build "${args[@]}" -f "$here/deploy/image/Dockerfile" -t "$tag" "$here/deploy"
  docker save -o "$out" "$tag"
  size="$(docker image inspect --format '{{.Size}}' "$tag")"
else
  if ! command -v buildah >/dev/null; then
    echo "build: no Docker daemon and no buildah: installing buildah with apt-get" >&2
    [ "$(id -u)" = 0 ] || die "installing buildah needs root (or install it: apt-get install buildah)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah >/dev/null
  fi
  echo "build: no Docker daemon: buildah bud --format docker -t $tag" >&2
  previous="$(buildah images --quiet --noheading "$tag" 2>/dev/null | head -1 || true)"
  buildah bud --format docker --isolation "${BUILDAH_ISOLATION:-chroot}" "${args[@]}" \
    -f "$here/deploy/image/Dockerfile" -t "$tag" "$here/deploy"
  # The image this tag named before, now untagged, would keep its 1 GB: remove it unless in use.
  if [ -n "$previous" ] && [ "$previous" != "$(buildah images --quiet --noheading "$tag" | head -1)" ]; then
    buildah rmi "$previous" >/dev/null 2>&1 || true
  fi
  # docker-archive keeps the Docker format (and so HEALTHCHECK); the tag goes into the archive.
  buildah push --quiet "$tag" "docker-archive:$out:$tag"
  size="$(buildah inspect --type image --format '{{.Manifest}}' "$tag" \
    | grep -o '"size":[0-9]*' | awk -F: '{ s += $2 } END { print s }')"
fi
echo "build: $tag in $((SECONDS - start)) s; image $(numfmt --to=iec "$size" 2>/dev/null || echo "$size") " \
  "(uncompressed layers), archive $(du -h "$out" | cut -f1) at $out"
