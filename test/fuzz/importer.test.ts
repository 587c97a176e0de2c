/**
 * Property-based test of the importer against the real Neo4j: forged files (src/fuzz/importer-property.ts) import
 * without a crash, and the endpoint then answers walks from their events with no 5xx and no event of another
 * room. `npm run fuzz` runs the same property many more times.
 */
import fc from 'fast-check';
import { buildFixture, storeFixture, type Fixture } from '../../src/fuzz/fixture';
import { startFuzzService, type FuzzService } from '../../src/fuzz/fuzz-service';
import { checkForgedImport, importerProperty } from '../../src/fuzz/importer-property';
import type { Graph } from '../../src/store/neo4j';
import { openTestGraph } from '../helpers/graph';

let graph: Graph;
let service: FuzzService;
let fixture: Fixture;

beforeAll(async () => {
  graph = await openTestGraph();
  service = await startFuzzService(graph);
  fixture = buildFixture();
  await storeFixture(graph, service.keyStore, fixture);
});

afterAll(async () => {
  await service?.close();
  await graph?.driver.close();
});

describe('forged files', () => {
  it.each([
    ['a prev_events cycle in a version-1 room', { version: '1' as const, mutations: [{ kind: 'cycle' as const, from: 4, to: 8 }] }],
    ['a level 300 events wide', { version: '10' as const, width: 300, mutations: [] }],
    ['events claiming the other room, a line of garbage and a hostile depth', {
      version: '10' as const,
      mutations: [{ kind: 'move' as const, index: 5 }, { kind: 'move' as const, index: 6 }, { kind: 'garbage' as const, text: '{"room_id": 1e400' }, { kind: 'field' as const, index: 7, field: 'depth', value: 2 ** 60 }],
    }],
    ['numbers written as floats and prev_events/auth_events lists up to 20,000 long (issue 19)', {
      version: '10' as const,
      mutations: [
        { kind: 'number' as const, index: 5, field: 'depth' as const, text: '5.0' },
        { kind: 'number' as const, index: 6, field: 'origin_server_ts' as const, text: '1.7e12' },
        { kind: 'number' as const, index: 7, field: 'content' as const, text: '10e-1' },
        { kind: 'references' as const, index: 8, field: 'prev_events' as const, count: 20_000 },
        { kind: 'references' as const, index: 9, field: 'auth_events' as const, count: 11 },
      ],
    }],
  ])('imports %s and walks it safely', async (_case, shape) => {
    const file = { seed: 'fixed', messages: 6, width: 0, shuffle: 7, ...shape };
    expect(await checkForgedImport(graph, service.url, fixture, file, `${Date.now()}`)).toBeUndefined();
  });

  it('random forged files import without a crash and never lead a walk into another room', async () => {
    await fc.assert(importerProperty(graph, service.url, fixture), { numRuns: 15 });
  });
});
