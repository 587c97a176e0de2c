import { WalkBatching } from '../../src/store/walk-batching';

/** A runBatch the test answers by hand: each batch it was given, and a way to settle it. */
function batches() {
  const sent: { walks: readonly number[]; resolve: (rows: readonly string[]) => void; reject: (error: unknown) => void }[] = [];
  const runBatch = (walks: readonly number[]) =>
    new Promise<readonly string[]>((resolve, reject) => {
      sent.push({ walks, resolve, reject });
    });
  return { sent, runBatch };
}

const rowsFor = (walks: readonly number[]) => walks.map((walk) => `row ${walk}`);
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('WalkBatching', () => {
  it('sends a walk at once, alone, while a query slot is free', async () => {
    const { sent, runBatch } = batches();
    const batching = new WalkBatching(runBatch, 2, 16);
    const first = batching.run(1);
    const second = batching.run(2);
    expect(sent.map((batch) => batch.walks)).toEqual([[1], [2]]);
    sent[1]!.resolve(rowsFor(sent[1]!.walks));
    sent[0]!.resolve(rowsFor(sent[0]!.walks));
    await expect(Promise.all([first, second])).resolves.toEqual(['row 1', 'row 2']);
  });

  it('sends the walks that waited for a slot together, at most `batch` to a query, in the order they came', async () => {
    const { sent, runBatch } = batches();
    const batching = new WalkBatching(runBatch, 1, 3);
    const answers = [1, 2, 3, 4, 5, 6, 7, 8].map((walk) => batching.run(walk));
    expect(sent.map((batch) => batch.walks)).toEqual([[1]]);
    expect(batching.queued).toBe(7);
    for (let i = 0; i < 4; i++) {
      sent[i]!.resolve(rowsFor(sent[i]!.walks));
      await settle();
    }
    expect(sent.map((batch) => batch.walks)).toEqual([[1], [2, 3, 4], [5, 6, 7], [8]]);
    expect(batching.queued).toBe(0);
    await expect(Promise.all(answers)).resolves.toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((walk) => `row ${walk}`));
  });

  it("fails each walk of a failed batch with the batch's error, and goes on with the walks after it", async () => {
    const { sent, runBatch } = batches();
    const batching = new WalkBatching(runBatch, 1, 2);
    const answers = [1, 2, 3, 4].map((walk) => batching.run(walk).catch((error: Error) => `failed: ${error.message}`));
    sent[0]!.resolve(rowsFor([1]));
    await settle();
    sent[1]!.reject(new Error('Neo4j is unavailable'));
    await settle();
    sent[2]!.resolve(rowsFor([4]));
    await expect(Promise.all(answers)).resolves.toEqual(['row 1', 'failed: Neo4j is unavailable', 'failed: Neo4j is unavailable', 'row 4']);
    expect(sent.map((batch) => batch.walks)).toEqual([[1], [2, 3], [4]]);
  });

  it('fails every walk of a batch that returns another number of rows than it had walks', async () => {
    const { sent, runBatch } = batches();
    const batching = new WalkBatching(runBatch, 1, 2);
    const answers = [1, 2, 3].map((walk) => batching.run(walk).catch((error: Error) => `failed: ${error.message}`));
    sent[0]!.resolve(rowsFor([1]));
    await settle();
    sent[1]!.resolve(['row 2']);
    await expect(Promise.all(answers)).resolves.toEqual(['row 1', 'failed: A batch of 2 walks returned 1 rows', 'failed: A batch of 2 walks returned 1 rows']);
  });

  it('refuses fewer than one query in flight or one walk to a query', () => {
    const { runBatch } = batches();
    expect(() => new WalkBatching(runBatch, 0, 16)).toThrow(new RangeError('WalkBatching needs inFlight and batch >= 1 (got 0, 16)'));
    expect(() => new WalkBatching(runBatch, 4, 0)).toThrow(new RangeError('WalkBatching needs inFlight and batch >= 1 (got 4, 0)'));
  });
});
