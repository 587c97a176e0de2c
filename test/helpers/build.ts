/**
 * Builds dist/ as `npm run build` does, for tests that run the real programs (the CLI, the service, the importer)
 * as processes. Type errors elsewhere do not stop tsc emitting; they are printed, and the test then fails on what
 * it runs if they matter.
 */
import { execFileSync } from 'node:child_process';
import { PROJECT_ROOT } from '../../src/paths';

export function buildDist(): void {
  try {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: PROJECT_ROOT, stdio: 'pipe' });
  } catch (error) {
    process.stderr.write(`tsc -p tsconfig.build.json reported errors:\n${(error as { stdout?: Buffer }).stdout?.toString() ?? ''}\n`);
  }
}
