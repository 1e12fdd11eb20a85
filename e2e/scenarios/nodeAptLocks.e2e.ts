/**
 * Node.js at a first boot while the apt and dpkg locks are held for 120 s, as unattended-upgrades
 * and apt-daily do: the image's e2e-hold-apt-locks.service (enabled by the kernel command line)
 * takes them with POSIX fcntl locks, as apt does, before cloud-final starts. The installer reports
 * the held lock on each attempt, installs once they are released, and the worker starts once.
 */
import * as assert from "assert";
import { nodeFirstBootScenario } from "../lib/nodeFirstBoot";
import { attemptLines } from "../lib/nodeInstall";

const HOLD_APT_LOCKS = "hpc-e2e.hold-apt-locks";
const LOCKS_HELD = /E2E-APT-LOCKS-HELD pid=(\d+) for 120 s/;
const LOCKS_RELEASED = /E2E-APT-LOCKS-RELEASED/;
const LOCK_HELD_ATTEMPT =
  /attempt \d+: apt lock held: apt-get (update|install): E: Could not get lock \/var\/lib\/(apt\/lists|dpkg)\/lock(-frontend)?\. It is held by process (\d+) .*; next try in \d+ s$/;

nodeFirstBootScenario(
  "node-apt-locks",
  "Node.js at a first boot with the apt and dpkg locks held for 120 s: retried, installed, worker once after Succeeded",
  {
    kernelArgs: [HOLD_APT_LOCKS],
    assertAttempts: (s, installed) => {
      const held = s.guest.serial.find(LOCKS_HELD);
      const released = s.guest.serial.find(LOCKS_RELEASED);
      assert.ok(held, `the lock holder did not run (is ${HOLD_APT_LOCKS} on the kernel command line?)`);
      assert.ok(released, "node was installed while the holder had not released the locks");
      const before = attemptLines(s).filter((l) => l.offset < released.offset);
      assert.ok(before.length >= 1, "no attempt met the held locks");
      for (const line of before) {
        const m = LOCK_HELD_ATTEMPT.exec(line.text);
        assert.ok(m, `an attempt while the locks were held did not say so: ${line.text}`);
        assert.strictEqual(m[4], LOCKS_HELD.exec(held.text)![1], "apt named the holder's PID");
      }
      assert.ok(installed.offset > released.offset, "installed before the locks were released");
    },
  },
);
