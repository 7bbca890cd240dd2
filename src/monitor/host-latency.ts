/**
 * Settings of the machine that add to every read's latency, whatever the server does: checked when the server
 * starts (as Redis checks transparent huge pages), and recorded by the latency benchmarks next to their figures.
 *
 * One for now: on a virtual machine whose idle vCPUs use the haltpoll cpuidle driver, `guest_halt_poll_ns` is how
 * long an idle vCPU polls for work before it halts. A halted vCPU runs again only when the host schedules it,
 * so a thread that sleeps between requests (a server in epoll_wait) can wake milliseconds late. The kernel's
 * default is 200 µs; some VMs boot with 0. Measured on such a VM (docs/serving.md): a thread sleeping 100 µs at a
 * time woke over 1 ms late 5.4–5.7 times a second with 0, 0.8–0.9 with 200 µs.
 */
import { readFileSync } from 'node:fs';

export const GUEST_HALT_POLL_NS_PATH = '/sys/module/haltpoll/parameters/guest_halt_poll_ns';
/** The kernel's default (Documentation/virt/guest-halt-polling.rst). */
export const KERNEL_DEFAULT_GUEST_HALT_POLL_NS = 200_000;

/** A file's text, or undefined when it cannot be read (not Linux, no such driver, no permission). */
export type ReadSetting = (path: string) => string | undefined;

const readSetting: ReadSetting = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** How long an idle vCPU polls before it halts, in ns; undefined when this machine has no haltpoll driver. */
export function guestHaltPollNs(read: ReadSetting = readSetting): number | undefined {
  const text = read(GUEST_HALT_POLL_NS_PATH)?.trim();
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  return Number(text);
}

/** What in this machine's settings will show in read latency, each with what to do about it; empty when nothing. */
export function hostLatencyWarnings(read: ReadSetting = readSetting): string[] {
  const warnings: string[] = [];
  if (guestHaltPollNs(read) === 0)
    warnings.push(
      `this VM halts idle vCPUs without polling first (${GUEST_HALT_POLL_NS_PATH} is 0), so a request that ` +
        'arrives while the server waits can be answered milliseconds late. For sub-millisecond reads, set it to ' +
        `the kernel's default: echo ${KERNEL_DEFAULT_GUEST_HALT_POLL_NS} > ${GUEST_HALT_POLL_NS_PATH} (as root), ` +
        `or boot with haltpoll.guest_halt_poll_ns=${KERNEL_DEFAULT_GUEST_HALT_POLL_NS} (docs/serving.md, "Latency on a VM")`,
    );
  return warnings;
}
