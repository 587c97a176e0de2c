/**
 * Query results as a text table: one column a returned name, each cell one line. Nodes, relationships and paths
 * are summarised by what identifies them (an event by its labels and event_id), so a DAG query stays readable.
 */
import neo4j from 'neo4j-driver';

/** The properties that name a node, in order of preference: events, rooms, states, servers' keys. */
const KEYS = ['event_id', 'room_id', 'state_id', 'server_name'];

export interface TableOptions {
  /** Longer cells are cut, with "…"; 0 keeps them whole. */
  readonly maxCellWidth: number;
}

export function formatTable(columns: readonly string[], rows: readonly (readonly unknown[])[], options: TableOptions): string {
  const cells = rows.map((row) => row.map((value) => cut(describeValue(value), options.maxCellWidth)));
  const isNumber = (value: unknown) => typeof value === 'number' || neo4j.isInt(value);
  const numeric = columns.map((_, i) => rows.some((row) => isNumber(row[i])) && rows.every((row) => row[i] === null || isNumber(row[i])));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: readonly string[]) =>
    values.map((value, i) => (numeric[i] ? value.padStart(widths[i]!) : value.padEnd(widths[i]!))).join(' | ').trimEnd();
  const count = `(${rows.length} ${rows.length === 1 ? 'row' : 'rows'})`;
  if (columns.length === 0) return count;
  return [line(columns), widths.map((width) => '-'.repeat(width)).join('-+-'), ...cells.map(line), count].join('\n');
}

/** One line for any value Neo4j returns. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return value.replace(/\r?\n/g, '\\n');
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (neo4j.isInt(value)) return value.toString();
  if (neo4j.isNode(value)) return `(${labels(value.labels)} ${nodeKey(value.properties)})`;
  if (neo4j.isRelationship(value)) return `[:${value.type}]`;
  if (neo4j.isPath(value)) return describePath(value);
  if (Array.isArray(value)) return `[${value.map(describeValue).join(', ')}]`;
  if (isPlainObject(value)) return `{${Object.entries(value).map(([key, item]) => `${key}: ${describeValue(item)}`).join(', ')}}`;
  // Dates, times, durations and points print as Cypher writes them.
  return String(value);
}

/** `A -> B -> C` along the path: an arrow points the way its relationship does (PREV_EVENT: newer -> older). */
function describePath(path: { start: { properties: Record<string, unknown> }; segments: { start: { elementId: string }; end: { elementId: string; properties: Record<string, unknown> }; relationship: { startNodeElementId: string } }[] }): string {
  let text = nodeKey(path.start.properties);
  for (const segment of path.segments) {
    const forward = segment.relationship.startNodeElementId === segment.start.elementId;
    text += `${forward ? ' -> ' : ' <- '}${nodeKey(segment.end.properties)}`;
  }
  return text;
}

function labels(names: readonly string[]): string {
  return names.map((name) => `:${name}`).join('');
}

function nodeKey(properties: Record<string, unknown>): string {
  const key = KEYS.find((name) => properties[name] !== undefined);
  return key === undefined ? describeValue(properties) : describeValue(properties[key]);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

function cut(text: string, width: number): string {
  return width > 0 && text.length > width ? `${text.slice(0, width - 1)}…` : text;
}
