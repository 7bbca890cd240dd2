/**
 * The V8 options the `tributary` command starts node with (its shebang: `#!/usr/bin/env -S node <flags>`).
 *
 * `--initial-old-space-size=256`: V8 counts external memory (the Buffers of request bodies and log batches,
 * some 50 MB/s at 50k events/s) against the old generation's limit, which it sizes from the live heap. An
 * intake's heap is small (~16 MB), so its limit was reached every ~300 ms, and each major collection's pause
 * (2–7 ms) landed on the acknowledgements in flight: ack p99 14–31 ms against a floor of 7–9. With 256 MB of
 * headroom the collections come every few seconds and ack p99 falls to about 8 ms (docs/ingest.md). The
 * memory this costs is garbage that may wait up to 256 MB before it is collected. Processes that embed
 * Tributary start node with these options themselves.
 */
export const NODE_FLAGS: readonly string[] = ['--initial-old-space-size=256'];
