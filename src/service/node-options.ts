/**
 * The node options the service runs with. `npm start` (package.json), the image's CMD (Dockerfile) and the endpoint
 * benchmark and soak (src/cli/bench-endpoint.ts) pass them; test/unit/compose-file.test.ts checks the first two
 * against this list. `maxtryx serve` runs in the CLI's own process: run it as
 * `node --max-semi-space-size=16 --heap-growing-percent=100 dist/src/cli/main.js serve` (node refuses the second in
 * NODE_OPTIONS).
 *
 * The old generation may grow to twice what survived the last full collection before the next one
 * (`--heap-growing-percent=100`; V8 otherwise lets it grow up to fourfold): under the endpoint benchmark's load (64
 * connections) the live heap is about 25 MB, and the old generation reached 91-117 MB between collections, the
 * service's peak RSS 229-235 MB in 7 of 24 passes (target: under 200 MB). With it, and node 20's default young
 * generation of two 16 MB semi-spaces instead of the 8 MB ones shipped before (fewer objects of requests in flight
 * promoted): peak RSS 144-148 MB in 6 of 6 passes, requests/s 5% above the growing limit alone and level with the
 * old options (README "Performance", 2026-12-03).
 */
export const SERVICE_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=16', '--heap-growing-percent=100'];
