// Installs npm dependencies when node_modules is missing or older than package-lock.json, so every npm script
// works on a fresh clone. Plain Node, no dependencies: it runs before any are installed.
import { existsSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const marker = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
const stale = !existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs);
if (stale) {
  process.stderr.write('Installing npm dependencies (node_modules is missing or out of date)...\n');
  // `npm install`, not `npm ci`: it installs the versions package-lock.json pins all the same, and npm 11 writes
  // lock files that its own `npm ci` refuses (optional platform bindings it leaves out of the lock).
  const result = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`npm install failed (exit ${result.status}); see the output above.\n`);
    process.exit(1);
  }
}
