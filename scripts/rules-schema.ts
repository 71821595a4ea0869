/** `tsx scripts/rules-schema.ts [dir]`: writes JSON Schemas for editors to <dir>/schema/ from the zod schemas that validate. */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import {
  CONDITIONS_JSON_SCHEMA,
  ConditionsSchema,
  FlowSchema,
  RoutingFileSchema,
  SettingsSchema,
  SurveySchema,
  TestsFileSchema,
} from "../src/core/ruleset/index.js";

const dir = join(process.argv[2] ?? process.env.RULES_DIR ?? "./rules", "schema");
const kinds = {
  settings: [SettingsSchema, "settings.json"],
  survey: [SurveySchema, "survey.json"],
  routing: [RoutingFileSchema, "routing/*.json"],
  flow: [FlowSchema, "flows/<flowId>.json"],
  tests: [TestsFileSchema, "tests/*.json"],
} as const;

await mkdir(dir, { recursive: true });
for (const [kind, [schema, file]] of Object.entries(kinds)) {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  const node = JSON.parse(
    JSON.stringify(CONDITIONS_JSON_SCHEMA.$defs.node).replaceAll(
      "#/$defs/conditions/$defs/node",
      "#/$defs/conditionNode",
    ),
  ) as { oneOf: unknown[] };
  const defs = {
    ...((json.$defs as Record<string, unknown> | undefined) ?? {}),
    // The root of a condition tree is all/any/not; leaves appear below it.
    conditions: { description: ConditionsSchema.description, oneOf: node.oneOf.slice(0, 3) },
    conditionNode: node,
  };
  const out = { ...json, title: `onboarding-router ${file}`, $defs: defs };
  await writeFile(join(dir, `${kind}.schema.json`), `${JSON.stringify(out, null, 2)}\n`);
  console.log(`wrote ${join(dir, `${kind}.schema.json`)}`);
}
