/**
 * The body of POST /_matrix/federation/v1/get_missing_events/{roomId} (spec: data/api/server-server/backfill.yaml):
 * `earliest_events` and `latest_events` (absent means [], as Synapse allows), `limit` (default 10, clamped to
 * our maximum as Synapse clamps to 20) and `min_depth` (default 0). A value of the wrong JSON type is M_BAD_JSON;
 * a value of the right type that is out of bounds is M_INVALID_PARAM. Unknown fields are ignored.
 */
import Joi from 'joi';
import { MatrixError } from '../errors';
import { isEventId, isRoomId } from './identifiers';

export interface MissingEventsLimits {
  readonly maxLimit: number;
  readonly maxLatestEvents: number;
  readonly maxEarliestEvents: number;
}

export interface MissingEventsRequest {
  readonly room_id: string;
  readonly latest_events: readonly string[];
  readonly earliest_events: readonly string[];
  readonly limit: number;
  readonly min_depth: number;
}

const eventId = Joi.string().custom((value: string, helpers) => (isEventId(value) ? value : helpers.error('eventId.invalid')));

function bodySchema(limits: MissingEventsLimits): Joi.ObjectSchema {
  return Joi.object({
    earliest_events: Joi.array().items(eventId).max(limits.maxEarliestEvents).default([]),
    latest_events: Joi.array().items(eventId).max(limits.maxLatestEvents).default([]),
    limit: Joi.number().integer().min(1).unsafe().default(10),
    min_depth: Joi.number().integer().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  })
    .unknown(true)
    .prefs({ convert: false, abortEarly: true });
}

const schemas = new WeakMap<MissingEventsLimits, Joi.ObjectSchema>();

export function parseMissingEventsRequest(roomId: string, body: unknown, limits: MissingEventsLimits): MissingEventsRequest {
  if (!isRoomId(roomId)) throw new MatrixError('M_INVALID_PARAM', `"${roomId}" is not a room ID`);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new MatrixError('M_BAD_JSON', 'The request body must be a JSON object');
  }
  let schema = schemas.get(limits);
  if (schema === undefined) {
    schema = bodySchema(limits);
    schemas.set(limits, schema);
  }
  const { value, error } = schema.validate(body);
  if (error) throw toMatrixError(error.details[0]!, limits);
  return {
    room_id: roomId,
    latest_events: [...new Set<string>(value.latest_events)],
    earliest_events: [...new Set<string>(value.earliest_events)],
    limit: Math.min(value.limit as number, limits.maxLimit),
    min_depth: value.min_depth as number,
  };
}

function toMatrixError(detail: Joi.ValidationErrorItem, limits: MissingEventsLimits): MatrixError {
  const field = detail.path.map((part) => (typeof part === 'number' ? `[${part}]` : part)).join('.').replace('.[', '[');
  switch (detail.type) {
    case 'array.base':
      return new MatrixError('M_BAD_JSON', `${field} must be an array of event IDs`);
    case 'string.base':
      return new MatrixError('M_BAD_JSON', `${field} must be a string (an event ID)`);
    case 'number.base':
      return new MatrixError('M_BAD_JSON', `${field} must be an integer`);
    // Joi reports "" as string.empty before the custom rule runs; it is just as much not an event ID.
    case 'string.empty':
    case 'eventId.invalid':
      return new MatrixError('M_INVALID_PARAM', `${field} is not an event ID (a "$" sigil, at most 255 bytes)`);
    case 'array.max': {
      const max = detail.path[0] === 'latest_events' ? limits.maxLatestEvents : limits.maxEarliestEvents;
      return new MatrixError('M_INVALID_PARAM', `${field} lists more than ${max} event IDs`);
    }
    case 'number.integer':
      return new MatrixError('M_INVALID_PARAM', `${field} must be an integer`);
    case 'number.min':
      return new MatrixError('M_INVALID_PARAM', `${field} must be at least ${field === 'limit' ? 1 : 0}`);
    // min_depth beyond 2**53 - 1 cannot be compared exactly; Joi reports it as number.unsafe.
    case 'number.unsafe':
    case 'number.max':
      return new MatrixError('M_INVALID_PARAM', `${field} must be at most ${Number.MAX_SAFE_INTEGER}`);
    default:
      return new MatrixError('M_INVALID_PARAM', `${field} is invalid: ${detail.message}`);
  }
}
