#!/bin/sh
# A stand-in for systemctl, for the drain watcher's process tests (its --systemctl flag): the
# "unit" is the one process whose pid is in $FAKE_SYSTEMCTL_DIR/pid. Every call is appended to
# $FAKE_SYSTEMCTL_DIR/calls as "<epoch seconds.nanoseconds> <arguments>".
#   is-active UNIT                prints active or inactive (exit 0 or 3), as systemctl does
#   stop --no-block UNIT          SIGTERM to the process (its KillSignal)
#   kill --signal=SIGKILL UNIT    SIGKILL to the process
#   start --no-block UNIT         recorded only
set -u
dir=${FAKE_SYSTEMCTL_DIR:?set FAKE_SYSTEMCTL_DIR}
echo "$(date +%s.%N) $*" >> "$dir/calls"
pid=$(cat "$dir/pid" 2>/dev/null || true)
alive() { [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }
case "$1" in
  is-active)
    if alive; then echo active; else echo inactive; exit 3; fi ;;
  stop)
    if alive; then kill -TERM "$pid"; fi ;;
  kill)
    if alive; then kill -KILL "$pid"; fi ;;
  start) ;;
  *)
    echo "fake-systemctl: unsupported: $*" >&2
    exit 1 ;;
esac
exit 0
