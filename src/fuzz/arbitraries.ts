/**
 * fast-check generators of hostile input for the endpoint: strings with every kind of code point (lone surrogates
 * included), numbers JSON cannot hold exactly, deep nesting, duplicate keys, floats, arrays at and past the
 * limits, event and room IDs real and forged, and Authorization headers of every shape.
 */
import fc from 'fast-check';

/** Strings a parser or a Cypher parameter might choke on. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('', '\uD800', 'a\uDFFFb', '\uDBFF\uDFFF', '\u0000', '\u202E', '$', '!', '%', '%00', '%E0%A4%A', "'; MATCH (n) DETACH DELETE n //", '`', '\\', '$'.repeat(300)),
);

/** Numbers at the edges of what JSON and JavaScript hold. */
export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, -1, 1, 20, 21, 2 ** 31, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e21, 1e308, -1e308, 5e-324, 0.5, 1.5),
);

/**
 * Numbers as written that JSON.parse reads as integers or floats but canonical JSON has no form for (issue 19,
 * item 6): a fraction or an exponent (`1.0`, `1e0`, `10e-1`, `1.7e12`), or an integer beyond 2^53-1. Text, since
 * JSON.stringify would write 1.0 as 1.
 */
export const nonCanonicalNumberText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('1.0', '1e0', '10e-1', '5.0', '1.7e12', '-0.0', '1E2', '1e+2', '0.5', '9007199254740992', '-9007199254740992', '123456789012345678901234567890', '1e400'),
  fc.tuple(fc.integer({ min: -1000, max: 1_000_000 }), fc.constantFrom('.0', '.5', 'e0', 'e3', 'E-1')).map(([n, tail]) => `${n}${tail}`),
);

/** An event ID a caller might send: one of the fixture's, well-formed but unknown, or malformed. */
export function eventIdLike(known: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...known) },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((s) => `$${s}:fuzz1.test`) },
    { weight: 1, arbitrary: hostileString.map((s) => `$${s}`) },
    { weight: 1, arbitrary: hostileString },
  );
}

/** Any JSON-ish value, nested a little. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    hostileNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(hostileString, tie('value'), { maxKeys: 5 }),
  ),
})).value;

/** A body shaped like a request, with any field of any type and unknown fields besides. */
export function requestBody(known: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  // Mostly requests that pass validation, so most runs reach the walk and the visibility check.
  const idList = fc.oneof(
    { weight: 6, arbitrary: fc.array(fc.constantFrom(...known), { maxLength: 8 }) },
    { weight: 2, arbitrary: fc.array(eventIdLike(known), { maxLength: 8 }) },
    { weight: 1, arbitrary: fc.constantFrom(256, 257, 4096, 4097).chain((n) => fc.constant(Array.from({ length: n }, (_, i) => known[i % known.length]!))) },
    { weight: 1, arbitrary: hostileValue },
  );
  return fc.record(
    {
      latest_events: idList,
      earliest_events: idList,
      limit: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: -2, max: 40 }) }, { weight: 1, arbitrary: hostileNumber }, { weight: 1, arbitrary: hostileValue }),
      min_depth: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: -2, max: 30 }) }, { weight: 1, arbitrary: hostileNumber }, { weight: 1, arbitrary: hostileValue }),
      extra: hostileValue,
    },
    { requiredKeys: [] },
  );
}

/** A well-formed request body over the fixture's IDs, so that many runs reach the walk and the visibility check. */
export function wellFormedBody(known: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(
    {
      latest_events: fc.array(fc.constantFrom(...known), { minLength: 1, maxLength: 6 }),
      earliest_events: fc.array(fc.constantFrom(...known), { maxLength: 3 }),
      limit: fc.integer({ min: 1, max: 25 }),
      min_depth: fc.integer({ min: 0, max: 12 }),
    },
    { requiredKeys: ['latest_events'] },
  );
}

/** A body as bytes on the wire, including what JSON.stringify cannot produce. */
export type WireBody =
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  | { readonly kind: 'none' };

export function wireBody(known: readonly string[]): fc.Arbitrary<WireBody> {
  const nested = fc.tuple(fc.constantFrom(100, 101, 1000, 10_000, 100_000), fc.constantFrom('[', '{"a":')).map(([depth, open]) => ({
    kind: 'text' as const,
    text: open.repeat(depth) + (open === '[' ? '' : '1') + (open === '[' ? ']' : '}').repeat(depth),
    // A counterexample names the shape rather than printing 100,000 brackets.
    [fc.toStringMethod]: () => `{ kind: 'text', text: ${JSON.stringify(open)} nested ${depth} deep }`,
  }));
  const duplicateKeys = fc.tuple(eventIdLike(known), eventIdLike(known), hostileNumber).map(([a, b, n]) => ({
    kind: 'text' as const,
    text: `{"latest_events":${JSON.stringify([a])},"limit":3,"latest_events":${JSON.stringify([b])},"limit":${JSON.stringify(n) ?? 'null'}}`,
  }));
  const hugeNumbers = fc.oneof(fc.constantFrom('1e400', '-1e400', '123456789012345678901234567890', '0.1e-400', '-0'), nonCanonicalNumberText).map((n) => ({
    kind: 'text' as const,
    text: `{"latest_events":${JSON.stringify(known.slice(0, 1))},"limit":${n},"min_depth":${n}}`,
  }));
  return fc.oneof(
    { weight: 6, arbitrary: wellFormedBody(known).map((value) => ({ kind: 'json' as const, value })) },
    { weight: 6, arbitrary: requestBody(known).map((value) => ({ kind: 'json' as const, value })) },
    { weight: 2, arbitrary: hostileValue.map((value) => ({ kind: 'json' as const, value })) },
    { weight: 1, arbitrary: nested },
    { weight: 1, arbitrary: duplicateKeys },
    { weight: 1, arbitrary: hugeNumbers },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }).map((text) => ({ kind: 'text' as const, text })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 60 }).map((bytes) => ({ kind: 'bytes' as const, bytes })) },
    { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
  );
}

/** A room path segment: a fixture room (percent-encoded as senders do, or raw), an unknown room, or garbage. */
export function roomPath(knownRooms: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...knownRooms).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.constantFrom(...knownRooms) },
    { weight: 1, arbitrary: hostileString.map((s) => encodeURIComponent(`!${s}:fuzz1.test`.replace(/[\uD800-\uDFFF]/g, '?'))) },
    { weight: 1, arbitrary: fc.constantFrom('%E0%A4%A', '%', '%FF', '..', '%2e%2e', '!a%00b:x', 'x'.repeat(2000)) },
  );
}

/** How the request is authenticated. */
export type Signing = 'valid' | 'wrong-destination' | 'garbage' | 'none' | 'unknown-origin';

export const signing: fc.Arbitrary<Signing> = fc.oneof(
  { weight: 6, arbitrary: fc.constant('valid' as const) },
  { weight: 1, arbitrary: fc.constantFrom('wrong-destination' as const, 'garbage' as const, 'none' as const, 'unknown-origin' as const) },
);

/** Header values node will send (printable ASCII), to set beside the signed ones. */
export const headerValue: fc.Arbitrary<string> = fc.string({ unit: 'binary-ascii', maxLength: 80 }).map((s) => s.replace(/[^\x20-\x7e]/g, ''));
