/**
 * Event time normalisation (semantics.md, "Time"): epoch milliseconds as a number, or ISO-8601 with an offset
 * or `Z`; sub-millisecond fractions are floored; an ISO string without an offset is ambiguous and refused.
 * Seconds are never guessed.
 */
import type { Rejection } from './rejection.js';

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

export function normaliseTime(value: unknown, field: string): number | Rejection {
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      return { reason: 'unparsable_time', detail: `\`${field}\` is not a finite number` };
    return Math.floor(value);
  }
  if (typeof value !== 'string')
    return {
      reason: 'unparsable_time',
      detail: `\`${field}\` must be epoch milliseconds (a number) or ISO-8601 with an offset`,
    };
  const match = ISO.exec(value.trim());
  if (!match)
    return {
      reason: 'unparsable_time',
      detail: `\`${field}\` = ${JSON.stringify(value)} is not ISO-8601 (e.g. 2026-01-01T12:00:00Z)`,
    };
  const [, y, mo, d, h, mi, s, fraction, zulu, sign, oh, om] = match;
  if (!zulu && !sign) {
    return {
      reason: 'ambiguous_time',
      detail: `\`${field}\` = ${JSON.stringify(value)} has no offset; add Z or +hh:mm`,
    };
  }
  const ms = fraction ? Math.floor(Number(`0.${fraction}`) * 1000 + 1e-9) : 0;
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0), ms);
  const check = new Date(local);
  if (
    check.getUTCDate() !== Number(d) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s ?? 0) > 59
  ) {
    return {
      reason: 'unparsable_time',
      detail: `\`${field}\` = ${JSON.stringify(value)} is not a real date and time`,
    };
  }
  const offset = sign ? (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000 : 0;
  return local - offset;
}
