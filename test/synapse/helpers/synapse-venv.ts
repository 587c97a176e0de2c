/**
 * A Python virtualenv holding matrix-synapse from PyPI with its PostgreSQL extra (psycopg2), under the git-ignored
 * .synapse/venv: created with `python3 -m venv` and `pip install` on first use, reused while it holds the pinned
 * version; a virtualenv of that version without psycopg2 (made before the extra was asked for) gets it installed.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const SYNAPSE_REQUIREMENT = 'matrix-synapse[postgres]==1.163.*';
const VERSION_PREFIX = '1.163.';
export const VENV = resolve(__dirname, '..', '..', '..', '.synapse', 'venv');

export interface SynapseVenv {
  readonly python: string;
  readonly version: string;
  /** Seconds the install took; 0 when an existing virtualenv was reused. */
  readonly installSeconds: number;
}

export async function ensureSynapseVenv(log: (line: string) => void): Promise<SynapseVenv> {
  const python = join(VENV, 'bin', 'python');
  const existing = await installedVersion(python);
  if (existing?.startsWith(VERSION_PREFIX)) {
    if (await hasPsycopg2(python)) return { python, version: existing, installSeconds: 0 };
    const started = Date.now();
    log(`installing ${SYNAPSE_REQUIREMENT}'s PostgreSQL driver (psycopg2) into ${VENV}`);
    await run(join(VENV, 'bin', 'pip'), ['install', '--quiet', `matrix-synapse[postgres]==${existing}`], { maxBuffer: 16 * 1024 * 1024 });
    if (!(await hasPsycopg2(python))) throw new Error(`pip installed matrix-synapse[postgres], but ${python} cannot import psycopg2`);
    return { python, version: existing, installSeconds: (Date.now() - started) / 1000 };
  }

  const started = Date.now();
  log(`installing ${SYNAPSE_REQUIREMENT} into ${VENV} (about a minute)`);
  await rm(VENV, { recursive: true, force: true });
  const python3 = process.env.PYTHON ?? 'python3';
  await run(python3, ['-m', 'venv', VENV]);
  await run(join(VENV, 'bin', 'pip'), ['install', '--quiet', SYNAPSE_REQUIREMENT], { maxBuffer: 16 * 1024 * 1024 });
  const version = await installedVersion(python);
  if (!version?.startsWith(VERSION_PREFIX)) throw new Error(`pip installed matrix-synapse ${version ?? '(nothing)'}, not ${SYNAPSE_REQUIREMENT}`);
  if (!(await hasPsycopg2(python))) throw new Error(`pip installed ${SYNAPSE_REQUIREMENT}, but ${python} cannot import psycopg2`);
  return { python, version, installSeconds: (Date.now() - started) / 1000 };
}

async function hasPsycopg2(python: string): Promise<boolean> {
  try {
    await run(python, ['-c', 'import psycopg2']);
    return true;
  } catch {
    return false;
  }
}

async function installedVersion(python: string): Promise<string | undefined> {
  if (!existsSync(python)) return undefined;
  try {
    const { stdout } = await run(python, ['-c', 'import synapse; print(synapse.__version__)']);
    return stdout.trim();
  } catch {
    return undefined;
  }
}
