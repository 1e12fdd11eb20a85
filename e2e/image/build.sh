#!/bin/bash
# Builds the e2e guest: a Debian bookworm rootfs (mmdebstrap, no loop mounts), an ext4 image of it
# (mke2fs -d), and the kernel and initrd copied out of it so qemu can boot it with -kernel/-initrd.
# Usage: build.sh PACKAGES_FILE OUT_DIR   (OUT_DIR must not exist; it is created complete or not at all)
set -euo pipefail

PACKAGES_FILE=$1
OUT_DIR=$2
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
mmdebstrap --mode=root --variant=apt --format=directory \
  --aptopt="DPkg::Lock::Timeout \"$APT_LOCK_TIMEOUT_SECONDS\"" \
  --include="$PACKAGES" \
  "$SUITE" "$ROOTFS" "${MIRRORS[@]}"

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
