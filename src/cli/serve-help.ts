/**
 * What `maxtryx serve --help` lists after its options: every environment variable the service reads (the joi schema
 * of src/config.ts), with its default, so an operator need not open the README to find a setting's name.
 */
import { CONFIG_VARIABLES, configDefaults } from '../config';

/** What an unset variable with no default means, where that is more than "not set". */
const UNSET: Readonly<Record<string, string>> = {
  NEO4J_URI: "(unset: the project's local Neo4j, started if needed)",
  UPSTREAM_FEDERATION_URL: '(unset: no pass-through)',
  FOLLOW_SYNAPSE_DATABASE: '(unset: no follower)',
  FOLLOW_SYNAPSE_ROOMS: '(unset: every room)',
  LOG_FORMAT: '(unset: pretty on a terminal, json otherwise)',
};

export function serveEnvironmentHelp(): string {
  const defaults = configDefaults();
  const width = Math.max(...CONFIG_VARIABLES.map((name) => name.length)) + 2;
  const rows = CONFIG_VARIABLES.map((name) => {
    const value = defaults[name];
    const shown = value === undefined ? (UNSET[name] ?? '(unset)') : value === '' ? '(empty)' : String(value);
    return `  ${name.padEnd(width)}${shown}`;
  });
  return [
    '',
    'Environment variables (and their defaults; the README\'s configuration table says what each does). A file given',
    'with --config FILE or MAXTRYX_CONFIG=FILE may set the same keys; the environment overrides it:',
    ...rows,
    '',
    "Without NEO4J_URI, the project's local Neo4j listens where maxtryx neo4j --help says (NEO4J_BOLT_PORT, ...).",
  ].join('\n');
}
