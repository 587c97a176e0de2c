// Builds dist/ for the npm scripts, but only when something it is built from changed: with nothing changed it
// returns in the time Node takes to start, where `tsc` (even incremental) spends seconds reading the project.
// `node scripts/build.mjs --force` always compiles. Plain Node, no dependencies: it runs scripts/setup.mjs first,
// which installs them on a fresh clone.
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await import('./setup.mjs');

// Written after each successful compile with the time the compile started, so that a file saved while tsc ran is
// still newer than it. tsc's own dist/.tsbuildinfo is no stamp: an incremental build with nothing to emit leaves
// it as it was, so a touched but unchanged file would compile again on every run.
const stamp = join(root, 'dist', '.build-stamp');
const inputs = [join(root, 'src'), join(root, 'package.json'), join(root, 'package-lock.json'), ...readdirSync(root).filter((name) => /^tsconfig.*\.json$/.test(name)).map((name) => join(root, name))];

/** The newest modification time under the paths; directories count too, so a deleted or renamed file is seen. */
function newest(paths) {
  let latest = 0;
  for (const path of paths) {
    if (!existsSync(path)) continue;
    const stats = statSync(path);
    latest = Math.max(latest, stats.mtimeMs);
    if (stats.isDirectory()) latest = Math.max(latest, newest(readdirSync(path).map((name) => join(path, name))));
  }
  return latest;
}

const force = process.argv.includes('--force');
const built = existsSync(stamp) && existsSync(join(root, 'dist', 'src', 'main.js')) ? statSync(stamp).mtimeMs : 0;
if (force || newest(inputs) >= built) {
  const started = new Date();
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
  writeFileSync(stamp, 'dist/ was compiled from the sources as they were at this file\'s modification time (scripts/build.mjs)\n');
  utimesSync(stamp, started, started);
}
