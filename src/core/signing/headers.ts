/** Anything that can look up a header: `Headers` (case-insensitive), or a record with lowercase keys. */
export type HeaderSource =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | undefined>>;

/** Reads a header by its lowercase name; `undefined` when absent. */
export function readHeader(headers: HeaderSource, name: string): string | undefined {
  if (typeof headers.get === "function")
    return (headers as { get(n: string): string | null }).get(name) ?? undefined;
  return (headers as Readonly<Record<string, string | undefined>>)[name];
}
