/** Writes a generated room as JSON lines, one PDU a line, with its servers' keys next to it. */
import { createWriteStream } from 'node:fs';
import { generateRoom, roomBuilderFor, type GenerateOptions } from './generate-room';
import { keysFilePath, writeKeysFile } from './keys-file';

/** Writes the room to `out` and its keys next to it; returns the keys file's path. */
export async function writeRoom(options: GenerateOptions, out: string): Promise<string> {
  const builder = roomBuilderFor(options);
  const stream = createWriteStream(out);
  for (const event of generateRoom(options, builder)) {
    if (!stream.write(`${JSON.stringify(event.pdu)}\n`)) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
  const keysPath = keysFilePath(out);
  writeKeysFile(keysPath, { room_id: builder.roomId, room_version: options.roomVersion, servers: builder.servers() });
  return keysPath;
}
