/** Stops the throw-away Neo4j (and its guide server) that test/browser/global-setup.ts started, and deletes its home. */
import { stopBrowserTestNeo4j } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  await stopBrowserTestNeo4j();
}
