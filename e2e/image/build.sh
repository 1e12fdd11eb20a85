#!/bin/bash
# Builds the e2e guest: a Debian bookworm rootfs (mmdebstrap, no loop mounts), an ext4 image of it
# (mke2fs -d), and the kernel and initrd copied out of it so qemu can boot it with -kernel/-initrd.
# The image has no Node.js and no package mirror: its only apt source is APT_REPO_URL, the local
# repository the test serves. Debian's nodejs and the dependencies the image lacks are downloaded
# here, with the image's own apt, into OUT_DIR/nodejs-debs; the test indexes and serves them.
# Usage: build.sh PACKAGES_FILE OUT_DIR APT_REPO_URL
#        (OUT_DIR must not exist; it is created complete or not at all)
set -euo pipefail

PACKAGES_FILE=$1
OUT_DIR=$2
APT_REPO_URL=$3
# Files baked into the image: the e2e's fault injectors, each enabled by a kernel command line flag.
OVERLAY_DIR="$(dirname "$0")/rootfs"
readonly NODE_PACKAGE=nodejs
# Room for the rootfs (~500 MB) plus what cloud-init and the journal write during the tests;
# the file is sparse, and each run writes into its own qcow2 overlay anyway.
readonly IMAGE_SIZE=2G
# apt inside mmdebstrap can meet a host apt run (CI installs packages right before this).
readonly APT_LOCK_TIMEOUT_SECONDS=300
readonly SUITE=bookworm
# The locale cloud-init configures by default on Debian; generating it here saves ~8 s of
# locale-gen on every first boot.
readonly GUEST_LOCALE=en_US.UTF-8

if [[ $(id -u) != 0 ]]; then
  echo "build.sh: mmdebstrap --mode=root needs root; run the e2e as root (or with sudo)" >&2
  exit 1
fi
for tool in mmdebstrap mke2fs; do
  command -v "$tool" >/dev/null || {
    echo "build.sh: $tool is missing; install it with: apt-get install -y mmdebstrap e2fsprogs" >&2
    exit 1
  }
done

# Use this machine's own Debian mirror when it has one (CI and developer machines may use a
# local mirror or snapshot), else the public one.
MIRRORS=()
if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
  MIRRORS+=(/etc/apt/sources.list.d/debian.sources)
elif [[ -f /etc/apt/sources.list ]] && grep -q '^deb .*debian' /etc/apt/sources.list; then
  MIRRORS+=(/etc/apt/sources.list)
else
  MIRRORS+=("deb http://deb.debian.org/debian $SUITE main"
            "deb http://deb.debian.org/debian $SUITE-updates main"
            "deb http://deb.debian.org/debian-security $SUITE-security main")
fi

PACKAGES=$(grep -v '^\s*#' "$PACKAGES_FILE" | grep -v '^\s*$' | paste -sd, -)

WORK="$OUT_DIR.partial"
rm -rf "$WORK"
mkdir -p "$WORK"
ROOTFS="$WORK/rootfs"
trap 'rm -rf "$WORK"' EXIT

echo "build.sh: mmdebstrap $SUITE with: $PACKAGES" >&2
# The customize hooks run while the chroot still has the mirror's package lists: apt in the image
# resolves exactly what installing nodejs (without recommends, as the installer does) would fetch.
mmdebstrap --mode=root --variant=apt --format=directory \
  --aptopt="DPkg::Lock::Timeout \"$APT_LOCK_TIMEOUT_SECONDS\"" \
  --include="$PACKAGES" \
  --customize-hook="mkdir -p \"\$1/tmp/nodejs-debs/partial\"" \
  --customize-hook="chroot \"\$1\" apt-get install -q -y --download-only --no-install-recommends -o Dir::Cache::archives=/tmp/nodejs-debs $NODE_PACKAGE" \
  --customize-hook="copy-out /tmp/nodejs-debs $WORK" \
  "$SUITE" "$ROOTFS" "${MIRRORS[@]}"
mkdir -p "$WORK/debs"
mv "$WORK"/nodejs-debs/*.deb "$WORK/debs/"
rm -rf "$WORK/nodejs-debs"
mv "$WORK/debs" "$WORK/nodejs-debs"
if chroot "$ROOTFS" sh -c 'command -v node' >/dev/null; then
  echo "build.sh: the image must not carry node (the e2e installs it); remove what pulls it in" >&2
  exit 1
fi
echo "build.sh: $NODE_PACKAGE and what the image lacks for it: $(cd "$WORK/nodejs-debs" && echo *.deb)" >&2

# The test's repository is the only source: unsigned, local and served by the test itself, hence
# trusted=yes. No package lists ship, as on a cloud image: the first install runs apt-get update.
rm -f "$ROOTFS"/etc/apt/sources.list.d/*
echo "deb [trusted=yes] $APT_REPO_URL ./" > "$ROOTFS/etc/apt/sources.list"
find "$ROOTFS/var/lib/apt/lists" -maxdepth 1 -type f ! -name lock -delete

cp -R --preserve=mode "$OVERLAY_DIR/." "$ROOTFS/"
chroot "$ROOTFS" systemctl enable e2e-hold-apt-locks.service

echo "$GUEST_LOCALE UTF-8" > "$ROOTFS/etc/locale.gen"
chroot "$ROOTFS" locale-gen
echo "LANG=$GUEST_LOCALE" > "$ROOTFS/etc/default/locale"

# The guest has no package mirror; apt's timers would only add noise and load under TCG.
for timer in apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer fstrim.timer; do
  ln -sf /dev/null "$ROOTFS/etc/systemd/system/$timer"
done

cat > "$ROOTFS/etc/fstab" <<'FSTAB'
/dev/vda / ext4 defaults,errors=remount-ro 0 1
FSTAB

# Only the NoCloud seed ISO is offered; without this cloud-init probes every cloud (and the
# network ones time out).
mkdir -p "$ROOTFS/etc/cloud/cloud.cfg.d"
# One host key type: RSA key generation takes seconds under TCG, and nothing here uses ssh.
cat > "$ROOTFS/etc/cloud/cloud.cfg.d/90-e2e.cfg" <<'CLOUDCFG'
datasource_list: [ NoCloud, None ]
ssh_genkeytypes: [ ed25519 ]
CLOUDCFG

# The host watches the serial console: journald forwards the worker's and the waiter's lines
# there, so the test can time them without logging in.
mkdir -p "$ROOTFS/etc/systemd/journald.conf.d"
cat > "$ROOTFS/etc/systemd/journald.conf.d/90-e2e-console.conf" <<'JOURNALD'
[Journal]
ForwardToConsole=yes
TTYPath=/dev/ttyS0
MaxLevelConsole=info
JOURNALD

# The first boot generates it, as on a cloud image.
: > "$ROOTFS/etc/machine-id"
rm -f "$ROOTFS/var/lib/dbus/machine-id"

cp -L "$ROOTFS"/boot/vmlinuz-* "$WORK/vmlinuz"
cp -L "$ROOTFS"/boot/initrd.img-* "$WORK/initrd.img"

truncate -s "$IMAGE_SIZE" "$WORK/rootfs.img"
mke2fs -q -t ext4 -L e2e-root -d "$ROOTFS" "$WORK/rootfs.img"
rm -rf "$ROOTFS"

trap - EXIT
mv "$WORK" "$OUT_DIR"
echo "build.sh: image ready in $OUT_DIR" >&2
