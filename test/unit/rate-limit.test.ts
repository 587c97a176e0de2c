import {
  FederationRateLimiter,
  KeyedSemaphore,
  SlidingWindow,
  SYNAPSE_RC_FEDERATION,
  type Acquired,
  type RateLimitClock,
} from '../../src/http/rate-limit';

/** A clock whose time moves only when the test says, and whose sleeps end when their time is reached. */
class ManualClock implements RateLimitClock {
  time = 0;
  readonly sleeps: number[] = [];
  private readonly timers: { at: number; wake: () => void }[] = [];

  now = () => this.time;

  sleep = (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    return new Promise((resolve) => this.timers.push({ at: this.time + ms, wake: resolve }));
  };

  async advance(ms: number): Promise<void> {
    this.time += ms;
    for (const timer of this.timers.filter((t) => t.at <= this.time)) {
      this.timers.splice(this.timers.indexOf(timer), 1);
      timer.wake();
    }
    await settle();
  }
}

/** Lets every promise continuation that is ready run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

interface Log {
  /** Requests (numbered from 1) in the order they were let in. */
  readonly entered: number[];
  readonly refused: string[];
}

/** Starts `count` acquisitions for `origin` and records which of them have been let in, in order, or refused. */
function start(limiter: FederationRateLimiter, origin: string, count: number, log: Log): Promise<Acquired>[] {
  return Array.from({ length: count }, (_, i) =>
    limiter.acquire(origin).then((acquired) => {
      if (acquired.ok) log.entered.push(i + 1);
      else log.refused.push(`${i + 1} after ${acquired.retryAfterMs} ms`);
      return acquired;
    }),
  );
}

describe('SlidingWindow (Synapse rc_federation defaults)', () => {
  it('admits 10 at once, delays the 11th to the 50th by 500 ms, refuses the 51st until the window has room', () => {
    const window = new SlidingWindow(SYNAPSE_RC_FEDERATION);
    const at0 = Array.from({ length: 51 }, () => window.admit('a.example', 0));
    expect(at0.slice(0, 10)).toEqual(Array.from({ length: 10 }, () => ({ ok: true, delayMs: 0 })));
    expect(at0.slice(10, 50)).toEqual(Array.from({ length: 40 }, () => ({ ok: true, delayMs: 500 })));
    expect(at0[50]).toEqual({ ok: false, retryAfterMs: 1000 });
    // Refused requests are not counted: at 999 ms the window still holds 50, at 1000 ms it is empty again.
    expect(window.admit('a.example', 400)).toEqual({ ok: false, retryAfterMs: 600 });
    expect(window.admit('a.example', 999)).toEqual({ ok: false, retryAfterMs: 1 });
    expect(window.admit('a.example', 1000)).toEqual({ ok: true, delayMs: 0 });
  });

  it('slides: requests leave the window one by one as they age', () => {
    const window = new SlidingWindow({ windowMs: 1000, sleepLimit: 2, sleepDelayMs: 300, rejectLimit: 3 });
    expect([0, 100, 200].map((t) => window.admit('a', t))).toEqual([
      { ok: true, delayMs: 0 },
      { ok: true, delayMs: 0 },
      { ok: true, delayMs: 300 },
    ]);
    expect(window.admit('a', 500)).toEqual({ ok: false, retryAfterMs: 500 });
    // The request of 0 ms has left; those of 100 and 200 ms remain, so this one is the third: delayed.
    expect(window.admit('a', 1000)).toEqual({ ok: true, delayMs: 300 });
    expect(window.admit('a', 1050)).toEqual({ ok: false, retryAfterMs: 50 });
    expect(window.admit('a', 1100)).toEqual({ ok: true, delayMs: 300 });
  });

  it('counts each origin on its own', () => {
    const window = new SlidingWindow({ windowMs: 1000, sleepLimit: 1, sleepDelayMs: 500, rejectLimit: 1 });
    expect(window.admit('a', 0)).toEqual({ ok: true, delayMs: 0 });
    expect(window.admit('b', 0)).toEqual({ ok: true, delayMs: 0 });
    expect(window.admit('a', 1)).toEqual({ ok: false, retryAfterMs: 999 });
  });

  it('forgets origins whose requests have all left the window', () => {
    const window = new SlidingWindow(SYNAPSE_RC_FEDERATION);
    window.admit('a', 0);
    window.admit('b', 600);
    window.prune(999);
    expect(window.size).toBe(2);
    window.prune(1000);
    expect(window.size).toBe(1);
    window.prune(1600);
    expect(window.size).toBe(0);
  });
});

describe('KeyedSemaphore', () => {
  it('lets `limit` in per key and the rest in arrival order, each as a slot is freed', async () => {
    const semaphore = new KeyedSemaphore(2);
    const entered: string[] = [];
    const releases = new Map<string, () => void>();
    for (const name of ['a1', 'a2', 'a3', 'a4', 'b1']) {
      void semaphore.acquire(name.slice(0, 1)).then((release) => {
        entered.push(name);
        releases.set(name, release);
      });
    }
    await settle();
    expect(entered).toEqual(['a1', 'a2', 'b1']);
    expect(semaphore.load('a')).toEqual({ active: 2, waiting: 2 });

    releases.get('a2')!();
    releases.get('a2')!(); // a second call frees nothing more
    await settle();
    expect(entered).toEqual(['a1', 'a2', 'b1', 'a3']);
    expect(semaphore.load('a')).toEqual({ active: 2, waiting: 1 });

    releases.get('a1')!();
    await settle();
    expect(entered).toEqual(['a1', 'a2', 'b1', 'a3', 'a4']);
    for (const name of ['a3', 'a4', 'b1']) releases.get(name)!();
    expect(semaphore.size).toBe(0);
  });

  it('lets a waiter whose signal aborts leave the queue, resolving undefined; the next in line gets the slot', async () => {
    const semaphore = new KeyedSemaphore(1);
    const first = await semaphore.acquire('k');
    const gone = new AbortController();
    const leaving = semaphore.acquire('k', gone.signal);
    const staying = semaphore.acquire('k', new AbortController().signal);
    expect(semaphore.load('k')).toEqual({ active: 1, waiting: 2 });
    gone.abort();
    await expect(leaving).resolves.toBeUndefined();
    expect(semaphore.load('k')).toEqual({ active: 1, waiting: 1 });
    first();
    const second = await staying;
    expect(typeof second).toBe('function');
    expect(semaphore.load('k')).toEqual({ active: 1, waiting: 0 });
    second!();
    expect(semaphore.size).toBe(0);
    // Already aborted: no place in the queue at all; a free slot is still taken, since its holder may yet run.
    const aborted = AbortSignal.abort();
    const free = await semaphore.acquire('k', aborted);
    await expect(semaphore.acquire('k', aborted)).resolves.toBeUndefined();
    expect(semaphore.load('k')).toEqual({ active: 1, waiting: 0 });
    free!();
  });

  it('with a limit of 1 is a linearizer: the second holder waits for the first', async () => {
    const linearizer = new KeyedSemaphore(1);
    const first = await linearizer.acquire('hs2.test\u0000!room:hs1.test');
    let secondIn = false;
    const second = linearizer.acquire('hs2.test\u0000!room:hs1.test').then((release) => {
      secondIn = true;
      return release;
    });
    const otherRoom = await linearizer.acquire('hs2.test\u0000!other:hs1.test');
    await settle();
    expect(secondIn).toBe(false);
    first();
    await settle();
    expect(secondIn).toBe(true);
    (await second)();
    otherRoom();
    expect(linearizer.size).toBe(0);
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => new KeyedSemaphore(0)).toThrow('limit must be a positive integer, not 0');
  });
});

describe('FederationRateLimiter', () => {
  it('with the defaults: 3 run at once, 7 queue, 40 sleep 500 ms, the 51st is refused with retry_after_ms 1000', async () => {
    const clock = new ManualClock();
    const limiter = new FederationRateLimiter(SYNAPSE_RC_FEDERATION, clock);
    const log: Log = { entered: [], refused: [] };
    const acquisitions = start(limiter, 'hs2.test', 51, log);
    await settle();
    expect(log).toEqual({ entered: [1, 2, 3], refused: ['51 after 1000 ms'] });
    expect(clock.sleeps).toEqual(Array.from({ length: 40 }, () => 500));
    expect(limiter.load('hs2.test')).toEqual({ active: 3, waiting: 7 });

    // The sleepers wake at 500 ms and join the queue behind the 7 already waiting.
    await clock.advance(499);
    expect(limiter.load('hs2.test')).toEqual({ active: 3, waiting: 7 });
    await clock.advance(1);
    expect(limiter.load('hs2.test')).toEqual({ active: 3, waiting: 47 });

    // Each release lets the next one in, in arrival order: releasing request k lets request k + 3 in.
    for (let k = 1; k <= 50; k++) {
      const acquired = await acquisitions[k - 1]!;
      if (!acquired.ok) throw new Error(`request ${k} was refused`);
      acquired.release();
      await settle();
    }
    expect(log).toEqual({ entered: Array.from({ length: 50 }, (_, i) => i + 1), refused: ['51 after 1000 ms'] });
    expect(limiter.load('hs2.test')).toEqual({ active: 0, waiting: 0 });

    // At 1000 ms the window is empty again: the next request runs at once, with no delay.
    await clock.advance(500);
    const later = await limiter.acquire('hs2.test');
    expect(later.ok).toBe(true);
    expect(clock.sleeps).toHaveLength(40);
    if (later.ok) later.release();
    expect(limiter.tracked).toEqual({ window: 1, concurrency: 0 });
  });

  it('keeps origins apart: one origin at its limit does not slow another', async () => {
    const clock = new ManualClock();
    const limiter = new FederationRateLimiter({ windowMs: 1000, sleepLimit: 2, sleepDelayMs: 500, rejectLimit: 2, concurrent: 1 }, clock);
    const log: Log = { entered: [], refused: [] };
    start(limiter, 'busy.example', 3, log);
    await settle();
    // The second sleeps 500 ms, then waits for the one slot; the third is refused.
    expect(log).toEqual({ entered: [1], refused: ['3 after 1000 ms'] });
    const other = await limiter.acquire('quiet.example');
    expect(other.ok).toBe(true);
    expect(clock.sleeps).toEqual([]);
  });

  it('counts the refusal from the oldest request in the window', async () => {
    const clock = new ManualClock();
    const limiter = new FederationRateLimiter({ windowMs: 1000, sleepLimit: 5, sleepDelayMs: 0, rejectLimit: 2, concurrent: 5 }, clock);
    expect((await limiter.acquire('a')).ok).toBe(true);
    await clock.advance(300);
    expect((await limiter.acquire('a')).ok).toBe(true);
    await clock.advance(300);
    expect(await limiter.acquire('a')).toEqual({ ok: false, retryAfterMs: 400 });
    await clock.advance(400);
    expect((await limiter.acquire('a')).ok).toBe(true);
  });
});
