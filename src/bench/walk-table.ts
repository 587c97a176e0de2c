/** The walk benchmark's figures as text: the walk per room and limit, its baselines beside it, the targets. */
import type { WalkFigures, WalkTarget } from './walk-bench';

const TARGET_NAMES: Record<WalkTarget['kind'], string> = {
  synapse: 'walk >= 3x faster than Synapse\'s per-level walk (synapse p50 / walk p50)',
  floor: 'walk p50 within 3x of RETURN 1 (walk p50 / RETURN 1 p50)',
  flat: 'flat cost: p50 within 1.3x of the base room (1.5x at 50x its size or more)',
};

/** The figures as text: the walk per room and limit, the baselines beside it, then each target met or missed. */
export function formatWalkTable(figures: WalkFigures): string {
  const ms = (value: number) => value.toFixed(2);
  const x = (value: number | null) => (value === null ? '-' : `${value.toFixed(2)}x`);
  const lines: string[] = [];
  lines.push(
    `The walk (EventStore.walk): ${figures.shapes} request shapes per room, ${figures.runs} timed pass${figures.runs === 1 ? '' : 'es'} each; ` +
      `times in ms; "x ${figures.base}" is the ratio to the ${figures.base} room at the same limit`,
  );
  lines.push(
    table(
      ['room', 'events', 'limit', 'returned', 'db hits', `x ${figures.base}`, 'p50', 'p99', `p50 x ${figures.base}`],
      figures.rooms.flatMap((room) =>
        room.rows.map((row) => [
          room.label, room.events.toLocaleString('en'), String(row.limit), row.returned.toFixed(1), row.dbHits.toFixed(0),
          x(row.ratios.dbHitsToBase), ms(row.walk.p50), ms(row.walk.p99), x(row.ratios.p50ToBase),
        ]),
      ),
    ),
  );
  lines.push('');
  lines.push('Baselines on the same requests in the same run: p50 / p99 in ms, and the ratio to the walk\'s p50');
  lines.push(
    table(
      ['room', 'limit', 'Synapse per-level', 'synapse/walk', 'queries', 'RETURN 1', 'walk/floor', 'in-memory BFS', 'walk/memory', 'mismatches'],
      figures.rooms.flatMap((room) =>
        room.rows.map((row) => [
          room.label, String(row.limit),
          `${ms(row.synapse.p50)} / ${ms(row.synapse.p99)}`, x(row.ratios.synapseToWalk), row.synapse.queries.toFixed(1),
          `${ms(row.floor.p50)} / ${ms(row.floor.p99)}`, x(row.ratios.walkToFloor),
          `${row.memory.p50.toFixed(3)} / ${row.memory.p99.toFixed(3)}`, x(row.ratios.walkToMemory), String(row.mismatches),
        ]),
      ),
    ),
  );
  const shapes = figures.rooms.map(
    (room) => `${room.label}: ${room.shapes.meanEarliest.toFixed(1)} earliest_events on average, ${room.shapes.withMinDepth} of ${room.shapes.count} with a min_depth`,
  );
  lines.push(`Requests: ${shapes.join('; ')}`);
  lines.push('');
  lines.push('Targets');
  for (const kind of ['synapse', 'floor', 'flat'] as const) {
    const entries = figures.targets.filter((target) => target.kind === kind);
    if (entries.length === 0) continue;
    const verdict = entries.every((target) => target.met) ? 'met   ' : 'MISSED';
    const each = entries.map((target) => `${target.room}/${target.limit} ${x(target.value)}${target.met ? '' : ' (missed)'}`);
    lines.push(`  ${verdict} ${TARGET_NAMES[kind]}: ${each.join(', ')}`);
  }
  const mismatches = figures.rooms.reduce((sum, room) => sum + room.rows.reduce((s, row) => s + row.mismatches, 0), 0);
  if (mismatches > 0) lines.push(`  WARNING: ${mismatches} requests where a baseline's answer differs from the walk's`);
  return lines.join('\n');
}

function table(header: readonly string[], body: readonly (readonly string[])[]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...body.map(line)].join('\n');
}
