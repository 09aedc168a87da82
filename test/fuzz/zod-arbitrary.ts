/**
 * zod-derived fast-check arbitraries for the fuzz suite: a request schema is turned into JSON
 * Schema (`z.toJSONSchema`, input side) and that into an arbitrary of *valid-shaped* values;
 * `nearValid` then breaks one field with a hostile value, so requests get past the JSON parser
 * and most of the validator and reach deeper code. (zod-fast-check only supports zod 3.)
 */
import fc from "fast-check";
import { z } from "zod";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Schema = Record<string, unknown>;

const MAX_DEPTH = 4;

/** Strings that are short, but not friendly: full unicode (astral, combining, RTL), lone surrogates, controls. */
export const unicodeString = (maxLength = 24) =>
  fc.oneof(
    fc.string({ unit: "grapheme", maxLength }),
    fc.string({ unit: "binary", maxLength }),
    fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), maxLength: 4 }),
    fc.constantFrom(
      "",
      " ",
      "\u0000",
      "\u202eevil",
      "𝕬𝖇𝖈",
      "e\u0301\u0301\u0301",
      "﷽",
      "🏳️‍🌈",
      "\uFEFF",
      "..",
      "../../etc/passwd",
      "%00",
      "' OR 1=1 --",
    ),
  );

/** A deeply nested array: JSON.parse copes, recursive code downstream (stringify, walkers) may not. */
export const deeplyNested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

/**
 * Values too hostile to build as objects in the test itself (a 20,000-level object would overflow
 * JSON.stringify here): a marker string that `serialize` splices in as raw JSON text.
 */
const RAW: Record<string, string> = {
  __fuzz_deep_array__: deeplyNested(20_000),
  __fuzz_deep_object__: `${'{"a":'.repeat(20_000)}1${"}".repeat(20_000)}`,
};

/** JSON text of a generated value, with the raw markers replaced by their JSON. */
export function serialize(value: unknown): string {
  let text = JSON.stringify(value) ?? "null";
  for (const [marker, raw] of Object.entries(RAW)) text = text.split(`"${marker}"`).join(raw);
  return text;
}

/** A hostile replacement for any JSON value: wrong types, extremes, oversized, unicode, prototype keys. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  unicodeString(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    -1,
    0,
    1e308,
    -1e308,
    Number.MAX_SAFE_INTEGER + 2,
    2 ** 31,
    0.5,
    "x".repeat(70_000),
    "😀".repeat(20_000),
    [],
    {},
    [[[[[]]]]],
    JSON.parse('{"__proto__":{"polluted":true}}') as unknown,
    { constructor: { prototype: { x: 1 } } },
    "__fuzz_deep_array__",
    "__fuzz_deep_object__",
    "y".repeat(2_500_000),
  ),
  fc.array(fc.string(), { maxLength: 400 }),
);

function resolve(s: Schema, root: Schema): Schema {
  const ref = s.$ref;
  if (typeof ref === "string" && ref.startsWith("#/")) {
    let node: unknown = root;
    for (const part of ref.slice(2).split("/")) node = (node as Record<string, unknown>)?.[part];
    if (node && typeof node === "object") return node as Schema;
  }
  return s;
}

function stringArb(s: Schema): fc.Arbitrary<string> {
  const minLength = typeof s.minLength === "number" ? s.minLength : 0;
  const maxLength = Math.max(minLength, Math.min(typeof s.maxLength === "number" ? s.maxLength : 40, 40));
  switch (s.format) {
    case "uuid":
      return fc.uuid({ version: 4 });
    case "uri":
    case "url":
      return fc.webUrl();
    case "email":
      return fc.emailAddress();
    case "date-time":
      return fc
        .date({ min: new Date(0), max: new Date(4_102_444_800_000), noInvalidDate: true })
        .map((d) => d.toISOString());
  }
  if (typeof s.pattern === "string") {
    try {
      return fc
        .stringMatching(new RegExp(s.pattern))
        .filter((v) => v.length >= minLength && v.length <= (typeof s.maxLength === "number" ? s.maxLength : Infinity));
    } catch {
      // an ECMAScript-incompatible pattern: fall through to plain strings
    }
  }
  return fc.oneof(fc.string({ minLength, maxLength }), fc.string({ unit: "grapheme", minLength, maxLength }));
}

function numberArb(s: Schema, integer: boolean): fc.Arbitrary<number> {
  const lo =
    typeof s.minimum === "number"
      ? s.minimum
      : typeof s.exclusiveMinimum === "number"
        ? s.exclusiveMinimum + (integer ? 1 : 1e-9)
        : -1e6;
  const hi =
    typeof s.maximum === "number"
      ? s.maximum
      : typeof s.exclusiveMaximum === "number"
        ? s.exclusiveMaximum - (integer ? 1 : 1e-9)
        : 1e6;
  const min = Math.max(lo, -Number.MAX_SAFE_INTEGER);
  const max = Math.min(Math.max(hi, min), Number.MAX_SAFE_INTEGER);
  if (integer)
    return fc.integer({ min: Math.ceil(Math.max(min, -(2 ** 31))), max: Math.floor(Math.min(max, 2 ** 31 - 1)) });
  return fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
}

/** An arbitrary of values that satisfy (approximately: refinements are invisible) the JSON Schema. */
export function fromJsonSchema(schema: Schema, root: Schema = schema, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema, root);
  if (depth > MAX_DEPTH) return fc.constant(null);
  const alternatives = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (Array.isArray(alternatives) && alternatives.length > 0)
    return fc.oneof(...alternatives.map((a) => fromJsonSchema(a, root, depth + 1)));
  if (Array.isArray(s.allOf) && s.allOf.length > 0) return fromJsonSchema(s.allOf[0] as Schema, root, depth + 1);
  if ("const" in s) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
  const type = Array.isArray(s.type) ? (s.type as string[]) : typeof s.type === "string" ? [s.type] : [];
  if (type.length > 1) return fc.oneof(...type.map((t) => fromJsonSchema({ ...s, type: t }, root, depth)));
  switch (type[0]) {
    case "string":
      return stringArb(s);
    case "integer":
      return numberArb(s, true);
    case "number":
      return numberArb(s, false);
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array": {
      const items =
        s.items && typeof s.items === "object"
          ? fromJsonSchema(s.items as Schema, root, depth + 1)
          : fc.jsonValue({ maxDepth: 1 });
      const minLength = typeof s.minItems === "number" ? s.minItems : 0;
      return fc.array(items, {
        minLength,
        maxLength: Math.max(minLength, Math.min(typeof s.maxItems === "number" ? s.maxItems : 4, 4)),
      });
    }
    case "object": {
      const props = (s.properties ?? {}) as Record<string, Schema>;
      const required = new Set((s.required ?? []) as string[]);
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(props)) model[k] = fromJsonSchema(v, root, depth + 1);
      if (Object.keys(model).length === 0)
        return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 });
      return fc.record(model, { requiredKeys: [...required].filter((k) => k in model) });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Valid-shaped request bodies for a zod schema (input side). */
export function zodArbitrary(schema: z.ZodType): fc.Arbitrary<unknown> {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Schema;
  return fromJsonSchema(json);
}

/** Values past every sane bound: 20,000 levels of nesting, 2.5 MB strings, 40,000 keys. */
export const extremeValue: fc.Arbitrary<unknown> = fc.constantFrom(
  "__fuzz_deep_array__",
  "__fuzz_deep_object__",
  "y".repeat(2_500_000),
  Object.fromEntries(Array.from({ length: 40_000 }, (_, i) => [`key${i}`, i])),
);

/**
 * A valid-shaped body pushed past its bounds: every object-valued field (free-form records such as
 * `metadata` accept any key) gains a key with an extreme value; with none, one field is replaced.
 */
export function stressed(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.tuple(valid, extremeValue, fc.nat()).map(([value, extreme, i]) => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return extreme;
    const obj = structuredClone(value) as Record<string, unknown>;
    const nested = Object.values(obj).filter(
      (v): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v),
    );
    for (const inner of nested) inner.fuzz_extreme = extreme;
    const keys = Object.keys(obj);
    if (nested.length === 0) obj[keys.length > 0 ? keys[i % keys.length]! : "fuzz_extreme"] = extreme;
    return obj;
  });
}

/** A valid-shaped body with one field (top-level or one level down) replaced by a hostile value. */
export function nearValid(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.tuple(valid, fc.nat(), fc.nat(), hostileValue, fc.boolean()).map(([value, i, j, bad, drop]) => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return bad;
    const obj = structuredClone(value) as Record<string, Json>;
    const keys = Object.keys(obj);
    if (keys.length === 0) return { [String(i)]: bad };
    const key = keys[i % keys.length]!;
    const inner = obj[key];
    if (inner && typeof inner === "object" && !Array.isArray(inner) && j % 2 === 0) {
      // Replace a field one level down, or add one (e.g. `metadata.x`: free-form records accept any key).
      const innerKeys = Object.keys(inner);
      (inner as Record<string, unknown>)[
        innerKeys.length > 0 && j % 4 === 0 ? innerKeys[j % innerKeys.length]! : `k${j % 7}`
      ] = bad;
    } else if (drop) {
      delete obj[key];
    } else {
      (obj as Record<string, unknown>)[key] = bad;
    }
    return obj;
  });
}
