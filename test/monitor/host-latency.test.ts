import { describe, expect, it } from 'vitest';
import {
  GUEST_HALT_POLL_NS_PATH,
  guestHaltPollNs,
  hostLatencyWarnings,
  type ReadSetting,
} from '../../src/monitor/host-latency.js';

/** A machine whose only readable setting is guest_halt_poll_ns, with this text (undefined: no haltpoll driver). */
const machine =
  (haltPoll: string | undefined): ReadSetting =>
  (path) =>
    path === GUEST_HALT_POLL_NS_PATH ? haltPoll : undefined;

describe('host latency checks', () => {
  it('reads guest_halt_poll_ns, and nothing where there is no haltpoll driver or the text is not a number', () => {
    expect(guestHaltPollNs(machine('200000\n'))).toBe(200_000);
    expect(guestHaltPollNs(machine('0\n'))).toBe(0);
    expect(guestHaltPollNs(machine(undefined))).toBeUndefined();
    expect(guestHaltPollNs(machine('fast\n'))).toBeUndefined();
  });

  it('warns, saying how to fix it, only when idle vCPUs halt without polling', () => {
    const [warning, ...more] = hostLatencyWarnings(machine('0\n'));
    expect(more).toEqual([]);
    expect(warning).toContain(`echo 200000 > ${GUEST_HALT_POLL_NS_PATH}`);
    expect(warning).toContain('haltpoll.guest_halt_poll_ns=200000');
    expect(hostLatencyWarnings(machine('200000\n'))).toEqual([]);
    expect(hostLatencyWarnings(machine('50000\n'))).toEqual([]);
    expect(hostLatencyWarnings(machine(undefined))).toEqual([]);
  });
});
