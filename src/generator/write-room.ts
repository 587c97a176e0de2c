/** Writes a generated room as JSON lines, one PDU a line, with its servers' keys next to it. */
import { createWriteStream, mkdirSync } from 'node:fs';
import { once } from 'node:events';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { generateRoom, roomBuilderFor, type GenerateOptions } from './generate-room';
import { keysFilePath, writeKeysFile } from './keys-file';

/**
 * Writes the room to `out` (creating its folder) and its keys next to it; returns the keys file's path. The
 * keys are written last, so a keys file means its room file is complete. `onEvents` hears how many are made so far.
 */
export async function writeRoom(options: GenerateOptions, out: string, onEvents: (written: number) => void = () => {}): Promise<string> {
  mkdirSync(dirname(out), { recursive: true });
  const builder = roomBuilderFor(options);
  const lines = Readable.from(
    (function* () {
      let written = 0;
      for (const event of generateRoom(options, builder)) {
        yield `${JSON.stringify(event.pdu)}\n`;
        onEvents((written += 1));
      }
    })(),
  );
  const stream = createWriteStream(out);
  await Promise.race([once(stream, 'open'), once(stream, 'error').then(([error]) => Promise.reject(error))]);
  await pipeline(lines, stream);
  const keysPath = keysFilePath(out);
  writeKeysFile(keysPath, { room_id: builder.roomId, room_version: options.roomVersion, servers: builder.servers() });
  return keysPath;
}
