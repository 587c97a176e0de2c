/**
 * Debian's Chromium for the browser tests: /usr/bin/chromium, installed with apt-get when missing (never a browser
 * build downloaded by a test tool), started headless with a fresh profile and no background traffic.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Returns CHROMIUM, installing Debian's chromium package first when it is missing; throws saying how to get it. */
export function ensureChromium(say: (line: string) => void): string {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  say(`${CHROMIUM} is missing: installing Debian's chromium package (apt-get install -y chromium)...`);
  const install = () => spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'inherit' });
  let result = install();
  if (result.status !== 0 && !result.error) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit' });
    result = install();
  }
  if (existsSync(CHROMIUM)) {
    say(`installed ${CHROMIUM}`);
    return CHROMIUM;
  }
  const why = result.error ? `apt-get could not run (${result.error.message})` : `apt-get exited with ${result.status}`;
  throw quiet(`The browser tests need Debian's Chromium at ${CHROMIUM}, and installing it failed: ${why}. `
    + 'Install it with `sudo apt-get install chromium` and run `npm run test:browser` again.');
}

export interface Chromium {
  readonly context: BrowserContext;
  /** Hosts other than 127.0.0.1 and localhost that pages tried to reach (refused: tests run offline). */
  readonly externalHosts: Set<string>;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh user-data-dir; every request leaving the machine is refused and recorded. */
export async function launchChromium(viewport = { width: 1400, height: 900 }): Promise<Chromium> {
  const profile = mkdtempSync(join(tmpdir(), 'maxtryx-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run',
      '--disable-sync', '--disable-quic'],
  });
  const externalHosts = new Set<string>();
  await context.route(/^https?:\/\/(?!127\.0\.0\.1[:/]|localhost[:/])/, (route) => {
    externalHosts.add(new URL(route.request().url()).host);
    return route.abort();
  });
  return {
    context,
    externalHosts,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** An error whose message is the whole story: jest prints no stack trace of ours for it. */
export function quiet(message: string): Error {
  const error = new Error(message);
  error.stack = message;
  return error;
}
