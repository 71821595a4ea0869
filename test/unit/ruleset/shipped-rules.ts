import { readRulesDir } from "../../../src/adapters/rules-dir.js";
import { handoverMappingSchema } from "../../../src/core/handover/mapping-schema.js";

/** Loose on purpose: each test reaches into arbitrary JSON of the shipped files to break it. */
// biome-ignore lint/suspicious/noExplicitAny: see above
type Loose = any;

export const OPTIONS = { extraSchemas: { "handover-mappings/": handoverMappingSchema } };

/** A fresh deep copy of the shipped rules/ as a `{ files }` document, to break in a test. */
export async function shippedDoc(): Promise<{ files: Record<string, Loose> }> {
  const read = await readRulesDir(new URL("../../../rules", import.meta.url).pathname);
  if (!read.ok) throw new Error(JSON.stringify(read.error));
  return structuredClone(read.value) as { files: Record<string, Loose> };
}
