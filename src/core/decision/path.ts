/**
 * Dot-path resolution for condition `path`s, shared by the compiled evaluator and the
 * json-rules-engine reference (as its `pathResolver`), so both read facts identically.
 *
 * Supported: `$.a.b`, `a.b`, `$.a[0].b`, `$['a b']`, `$["a"]`, `$` (the whole value).
 * Only own properties are read (never `constructor`, `__proto__`, ...); a step into a
 * non-object, a missing key or a malformed path yields `undefined`.
 */

export type PathSegments = readonly (string | number)[];

const parsed = new Map<string, PathSegments | null>();

/** Splits a path into property keys and array indexes; null when it is malformed. */
export function parsePath(path: string): PathSegments | null {
  const known = parsed.get(path);
  if (known !== undefined) return known;
  const segments = scan(path);
  if (parsed.size < 10_000) parsed.set(path, segments);
  return segments;
}

function scan(path: string): PathSegments | null {
  const out: (string | number)[] = [];
  let i = 0;
  if (path.startsWith("$")) i = 1;
  else if (!path.startsWith("[")) {
    const end = nameEnd(path, 0);
    if (end === 0) return null;
    out.push(path.slice(0, end));
    i = end;
  }
  while (i < path.length) {
    const c = path[i];
    if (c === ".") {
      const end = nameEnd(path, i + 1);
      if (end === i + 1) return null;
      out.push(path.slice(i + 1, end));
      i = end;
    } else if (c === "[") {
      const close = path.indexOf("]", i);
      if (close < 0) return null;
      const inner = path.slice(i + 1, close);
      if (/^\d+$/.test(inner)) out.push(Number(inner));
      else if (/^'[^']*'$|^"[^"]*"$/.test(inner)) out.push(inner.slice(1, -1));
      else return null;
      i = close + 1;
    } else return null;
  }
  return out;
}

function nameEnd(path: string, from: number): number {
  let i = from;
  while (i < path.length && path[i] !== "." && path[i] !== "[") i++;
  return i;
}

/** Walks parsed segments through own properties; undefined as soon as a step is missing. */
export function resolveSegments(value: unknown, segments: PathSegments | null): unknown {
  if (segments === null) return undefined;
  let current = value;
  for (let i = 0; i < segments.length; i++) {
    const key = segments[i]!;
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

/** The `pathResolver` handed to json-rules-engine. */
export function resolvePath(value: unknown, path: string): unknown {
  return resolveSegments(value, parsePath(path));
}
