import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Replaces a file atomically and durably: write a temporary file, fsync it, rename, fsync the folder. The content is
 * text, bytes, or parts of bytes written one after another.
 */
export function writeDurably(path: string, content: string | Uint8Array | readonly Uint8Array[]): void {
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    for (const part of partsOf(content))
      for (let written = 0; written < part.length; )
        written += writeSync(fd, part, written, part.length - written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/**
 * writeDurably off the event loop (the thread pool writes and syncs): for large files, such as checkpoints of the
 * online state, whose writing must not stall requests.
 */
export async function writeDurablyAsync(
  path: string,
  content: Uint8Array | readonly Uint8Array[],
): Promise<void> {
  const temporary = `${path}.tmp`;
  const file = await open(temporary, 'w');
  try {
    for (const part of partsOf(content))
      for (let written = 0; written < part.length; )
        written += (await file.write(part, written, part.length - written)).bytesWritten;
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

function partsOf(content: string | Uint8Array | readonly Uint8Array[]): readonly Uint8Array[] {
  if (typeof content === 'string') return [Buffer.from(content)];
  return content instanceof Uint8Array ? [content] : content;
}
