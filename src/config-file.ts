/**
 * A configuration file, as Synapse operators keep one: `maxtryx serve --config maxtryx.yaml` (or MAXTRYX_CONFIG), a
 * YAML mapping whose keys are the environment variables of src/config.ts, written as they are (`SERVER_NAME:
 * example.org`). The environment overrides the file, so a container can change one setting without editing it.
 * Errors name the file, and the key when one is at fault.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, ConfigError, loadConfig, type Config } from './config';

export type Environment = NodeJS.ProcessEnv | Record<string, string | undefined>;

/** The file's settings as environment values (strings, as the environment would hold them). */
export function readConfigFile(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new ConfigError(`${file}: not YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (document === null || document === undefined) return {};
  if (typeof document !== 'object' || Array.isArray(document)) throw new ConfigError(`${file}: not a mapping of settings (KEY: value, one a line)`);
  const settings: Record<string, string> = {};
  for (const [key, value] of Object.entries(document as Record<string, unknown>)) {
    if (!CONFIG_VARIABLES.includes(key)) {
      const named = CONFIG_VARIABLES.find((name) => name === key.toUpperCase().replace(/-/g, '_'));
      throw new ConfigError(
        `${file}: ${key} is not a setting${named ? `; did you mean ${named}? (the keys are written as the environment variables)` : ' (the settings are the environment variables listed by maxtryx serve --help)'}`,
      );
    }
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new ConfigError(`${file}: ${key} must be one value (a string, a number or true/false), not ${value === null ? 'empty' : Array.isArray(value) ? 'a list' : 'a mapping'}`);
    }
    settings[key] = String(value);
  }
  return settings;
}

/** The file named by `file` (else MAXTRYX_CONFIG) under the environment: what the environment sets wins. */
export function withConfigFile(env: Environment, file: string | undefined = env.MAXTRYX_CONFIG || undefined): { env: Environment; file?: string; fromFile: Set<string> } {
  if (file === undefined) return { env, fromFile: new Set() };
  const settings = readConfigFile(file);
  const fromFile = new Set(Object.keys(settings).filter((key) => env[key] === undefined || env[key] === ''));
  const merged: Record<string, string | undefined> = { ...env };
  for (const key of fromFile) merged[key] = settings[key];
  return { env: merged, file, fromFile };
}

/** loadConfig over the file and the environment; a bad value that came from the file is reported with its name. */
export function loadConfigWithFile(env: Environment, file?: string): Config {
  const merged = withConfigFile(env, file);
  try {
    return loadConfig(merged.env);
  } catch (error) {
    const key = /^([A-Z0-9_]+) is invalid/.exec((error as Error).message)?.[1];
    if (error instanceof ConfigError && key !== undefined && merged.fromFile.has(key)) throw new ConfigError(`${merged.file}: ${error.message}`);
    throw error;
  }
}
