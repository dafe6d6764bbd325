#!/usr/bin/env bash
# Builds a Java 17 base image from Debian packages, for machines that cannot reach a container
# registry (this project's CI among them): debootstrap a minimal Debian, install
# openjdk-17-jre-headless into it, and commit the folder as an image with buildah.
#
#   deploy/image/local-base.sh [--tag REF] [--suite bookworm] [--mirror URL] [--security-mirror URL]
#
# --tag      image to write (default localhost/shardserve-base:17)
# --suite    Debian release (default bookworm, the release this machine runs)
# --mirror   Debian mirror (default: the first one this machine's apt uses, else deb.debian.org)
# --security-mirror  Debian security mirror (default: this machine's, else deb.debian.org/debian-security)
#
# Needs root (debootstrap and chroot). Installs debootstrap and buildah with apt-get when missing.
# The root file system is kept in deploy/target/local-base/rootfs; a second run with the same
# settings reuses the image if it exists (delete it with `buildah rmi REF` to rebuild).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tag="localhost/shardserve-base:17"
suite="bookworm"
mirror=""
security=""
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag="$2"; shift 2 ;;
    --suite) suite="$2"; shift 2 ;;
    --mirror) mirror="$2"; shift 2 ;;
    --security-mirror) security="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "local-base: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "local-base: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (debootstrap and chroot); run it with sudo"

# The mirrors this machine's apt already reaches are the ones most likely to answer.
apt_uri() {
  local pattern="$1"
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null \
    | grep -Eo 'https?://[^ ]+' | grep -E "$pattern" | head -1 || true
}
[ -n "$mirror" ] || mirror="$(apt_uri '/debian/?$')"
[ -n "$mirror" ] || mirror="http://deb.debian.org/debian"
[ -n "$security" ] || security="$(apt_uri '/debian-security/?$')"
[ -n "$security" ] || security="http://deb.debian.org/debian-security"

need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v buildah >/dev/null || need+=(buildah)
if [ ${#need[@]} -gt 0 ]; then
  echo "local-base: installing ${need[*]} with apt-get" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

if buildah inspect --type image "$tag" >/dev/null 2>&1; then
  echo "local-base: $tag already exists (buildah rmi $tag to rebuild)"
  exit 0
fi

work="$here/deploy/target/local-base"
rootfs="$work/rootfs"
rm -rf "$rootfs"
mkdir -p "$work"
cleanup() {
  umount "$rootfs/proc" 2>/dev/null || true
}
trap cleanup EXIT

start=$SECONDS
echo "local-base: debootstrap $suite from $mirror into $rootfs" >&2
debootstrap --variant=minbase --include=ca-certificates "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed (log: $work/debootstrap.log)"; }

cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
EOF
# The JRE's post-install scripts run java (the cacerts keystore), which reads /proc.
mount -t proc proc "$rootfs/proc"
echo "local-base: installing openjdk-17-jre-headless" >&2
chroot "$rootfs" /bin/sh -c 'export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null
  apt-get clean' >"$work/install.log" 2>&1 \
  || { tail -20 "$work/install.log" >&2; die "installing the JRE failed (log: $work/install.log)"; }
umount "$rootfs/proc"
# What a runtime image does not need: package lists, documentation, other languages' messages.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/usr/share/doc/* \
  "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/log/*.log
find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'C.*' -exec rm -rf {} + 2>/dev/null || true
java_home="$(dirname "$(dirname "$(readlink -f "$rootfs/usr/bin/java")")")"
java_home="${java_home#"$rootfs"}"

echo "local-base: committing $tag" >&2
tar -C "$rootfs" --numeric-owner -cf "$work/rootfs.tar" .
ctr="$(buildah from scratch)"
buildah add --quiet "$ctr" "$work/rootfs.tar" / >/dev/null
buildah config --env "JAVA_HOME=$java_home" --env LANG=C.UTF-8 --cmd '["/bin/bash"]' \
  --label "org.opencontainers.image.description=Debian $suite with openjdk-17-jre-headless (built by local-base.sh)" \
  "$ctr"
buildah commit --quiet --format docker --rm "$ctr" "$tag" >/dev/null
rm -f "$work/rootfs.tar"
echo "local-base: $tag built in $((SECONDS - start)) s ($(buildah images --format '{{.Size}}' "$tag"))"
