/**
 * The real graph, with each walk query (cypher/walk.cypher) reported before it goes to Neo4j: the driver is the
 * real one, only sessions' run() is wrapped. `onWalk` gets the query's parameters and may hold the query by
 * returning a promise.
 */
import type { Driver, Session } from 'neo4j-driver';
import { loadCypher } from '../../src/store/cypher-files';
import type { Graph } from '../../src/store/neo4j';

const WALK = loadCypher(['walk']).walk;

export interface WalkParameters {
  readonly requests: readonly { readonly index: number; readonly room_id: string; readonly origin: string | null }[];
}

export function watchingWalks(real: Graph, onWalk: (parameters: WalkParameters) => Promise<void> | void): Graph {
  const driver = new Proxy(real.driver, {
    get(target, property, receiver) {
      if (property !== 'session') return Reflect.get(target, property, receiver) as unknown;
      return (...args: Parameters<Driver['session']>) => {
        const session = target.session(...args);
        return new Proxy(session, {
          get(s, p, r) {
            if (p !== 'run') return Reflect.get(s, p, r) as unknown;
            const run = s.run as (...a: unknown[]) => Promise<unknown>;
            return (query: string, parameters: WalkParameters, ...rest: unknown[]) => {
              if (query !== WALK) return run.call(s, query, parameters, ...rest);
              const held = onWalk(parameters);
              return held === undefined ? run.call(s, query, parameters, ...rest) : held.then(() => run.call(s, query, parameters, ...rest));
            };
          },
        }) as Session;
      };
    },
  });
  return { ...real, driver };
}
