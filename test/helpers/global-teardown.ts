/** Stops what test/helpers/global-setup.ts started: the container, or the throw-away local Neo4j and its home. */
import { takeHandle } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  await takeHandle()?.stop();
}
