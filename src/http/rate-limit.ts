/**
 * Per-origin limits on federation requests, after Synapse's FederationRateLimiter (`rc_federation`): in a sliding
 * window, a request beyond `sleepLimit` is delayed by `sleepDelayMs`, one beyond `rejectLimit` is refused, and at
 * most `concurrent` requests of one origin are handled at once, the others queued in arrival order. No well-kept
 * npm limiter does per-key concurrency plus a sliding window, so this is our own, with the clock passed in: the
 * decisions are pure, and only `FederationRateLimiter.acquire` waits (through the clock's `sleep`).
 */

export interface RateLimitSettings {
  /** RC_FEDERATION_WINDOW_MS: how far back requests count. */
  readonly windowMs: number;
  /** RC_FEDERATION_SLEEP_LIMIT: requests in the window before the next ones are delayed. */
  readonly sleepLimit: number;
  /** RC_FEDERATION_SLEEP_DELAY_MS: the delay of each request beyond sleepLimit. */
  readonly sleepDelayMs: number;
  /** RC_FEDERATION_REJECT_LIMIT: requests in the window before the next ones are refused. */
  readonly rejectLimit: number;
  /** RC_FEDERATION_CONCURRENT: requests of one origin handled at once. */
  readonly concurrent: number;
}

/** Synapse's `rc_federation` defaults. */
export const SYNAPSE_RC_FEDERATION: RateLimitSettings = Object.freeze({
  windowMs: 1000,
  sleepLimit: 10,
  sleepDelayMs: 500,
  rejectLimit: 50,
  concurrent: 3,
});

export type Admission = { readonly ok: true; readonly delayMs: number } | { readonly ok: false; readonly retryAfterMs: number };

/**
 * The times of each key's admitted requests within the window. A refused request is not counted, so a caller who
 * keeps retrying while refused is let in as soon as the window has room again, as in Synapse.
 */
export class SlidingWindow {
  private readonly times = new Map<string, number[]>();

  constructor(private readonly settings: Pick<RateLimitSettings, 'windowMs' | 'sleepLimit' | 'sleepDelayMs' | 'rejectLimit'>) {}

  /** Counts a request of `key` at `now` if it is admitted, and says how long it must wait first. */
  admit(key: string, now: number): Admission {
    const { windowMs, sleepLimit, sleepDelayMs, rejectLimit } = this.settings;
    const times = (this.times.get(key) ?? []).filter((t) => now - t < windowMs);
    if (times.length >= rejectLimit) {
      this.times.set(key, times);
      // The oldest request leaves the window first; from then on there is room for one more.
      return { ok: false, retryAfterMs: times[0]! + windowMs - now };
    }
    times.push(now);
    this.times.set(key, times);
    return { ok: true, delayMs: times.length > sleepLimit ? sleepDelayMs : 0 };
  }

  /** Forgets keys with no request in the window, so the map holds only origins seen in the last window. */
  prune(now: number): void {
    for (const [key, times] of this.times) {
      if (times.every((t) => now - t >= this.settings.windowMs)) this.times.delete(key);
    }
  }

  get size(): number {
    return this.times.size;
  }
}

/**
 * At most `limit` holders per key; the others wait in arrival order. With a limit of 1 it is Synapse's Linearizer.
 * A key's entry is dropped when nobody holds or waits for it.
 */
export class KeyedSemaphore {
  private readonly slots = new Map<string, { active: number; waiting: (() => void)[] }>();

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, not ${limit}`);
  }

  /**
   * Resolves, once the key has a free slot, with the function that frees it (calling it twice frees it once). When
   * `signal` aborts first (the caller hung up), the place in the queue is given up and the promise resolves with
   * undefined: a request nobody waits for should not keep its body in memory until its turn.
   */
  acquire(key: string): Promise<() => void>;
  acquire(key: string, signal: AbortSignal | undefined): Promise<(() => void) | undefined>;
  acquire(key: string, signal?: AbortSignal): Promise<(() => void) | undefined> {
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = { active: 0, waiting: [] };
      this.slots.set(key, slot);
    }
    const entry = slot;
    const release = once(() => {
      const next = entry.waiting.shift();
      // The freed slot passes straight to the next in line, so a newcomer cannot overtake it.
      if (next !== undefined) return next();
      entry.active -= 1;
      if (entry.active === 0) this.slots.delete(key);
    });
    if (entry.active < this.limit) {
      entry.active += 1;
      return Promise.resolve(release);
    }
    if (signal?.aborted === true) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter = () => {
        signal?.removeEventListener('abort', abandon);
        resolve(release);
      };
      const abandon = () => {
        const at = entry.waiting.indexOf(waiter);
        if (at < 0) return;
        entry.waiting.splice(at, 1);
        resolve(undefined);
      };
      signal?.addEventListener('abort', abandon, { once: true });
      entry.waiting.push(waiter);
    });
  }

  /** How many hold a slot of `key`, and how many wait for one. */
  load(key: string): { active: number; waiting: number } {
    const slot = this.slots.get(key);
    return { active: slot?.active ?? 0, waiting: slot?.waiting.length ?? 0 };
  }

  get size(): number {
    return this.slots.size;
  }
}

export interface RateLimitClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: RateLimitClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export type Acquired =
  | { readonly ok: true; readonly release: () => void; readonly abandoned?: true }
  | { readonly ok: false; readonly retryAfterMs: number };

/** The window and the per-origin concurrency together, in Synapse's order: count, delay, then queue for a slot. */
export class FederationRateLimiter {
  private readonly window: SlidingWindow;
  private readonly slots: KeyedSemaphore;
  private lastPruneTs = -Infinity;

  constructor(
    readonly settings: RateLimitSettings,
    private readonly clock: RateLimitClock = realClock,
  ) {
    this.window = new SlidingWindow(settings);
    this.slots = new KeyedSemaphore(settings.concurrent);
  }

  /** `signal`: as KeyedSemaphore.acquire's; a request that gave up its place gets `abandoned` and holds no slot. */
  async acquire(origin: string, signal?: AbortSignal): Promise<Acquired> {
    const now = this.clock.now();
    if (now - this.lastPruneTs >= this.settings.windowMs) {
      this.window.prune(now);
      this.lastPruneTs = now;
    }
    const admission = this.window.admit(origin, now);
    if (!admission.ok) return admission;
    if (admission.delayMs > 0) await this.clock.sleep(admission.delayMs);
    const release = await this.slots.acquire(origin, signal);
    return release === undefined ? { ok: true, release: () => {}, abandoned: true } : { ok: true, release };
  }

  /** Origins with requests in the window, and with requests running or queued: what the limiter keeps in memory. */
  get tracked(): { window: number; concurrency: number } {
    return { window: this.window.size, concurrency: this.slots.size };
  }

  load(origin: string): { active: number; waiting: number } {
    return this.slots.load(origin);
  }
}

function once(action: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    action();
  };
}
