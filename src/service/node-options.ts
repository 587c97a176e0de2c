/**
 * The node options the service runs with. `npm start` (package.json), the image's CMD (Dockerfile) and the endpoint
 * benchmark and soak (src/cli/bench-endpoint.ts) pass them; test/unit/compose-file.test.ts checks the first two
 * against this list. `maxtryx serve` runs in the CLI's own process: give it NODE_OPTIONS="--max-semi-space-size=8".
 *
 * A young generation of two 8 MB semi-spaces instead of node 20's two 16 MB ones: under the endpoint benchmark's
 * load (64 connections) the service's peak RSS was 169-183 MB with it and 183-201 MB without (target: under
 * 200 MB), with no loss of requests/s beyond the noise (README "Performance", 2026-12-02).
 */
export const SERVICE_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=8'];
