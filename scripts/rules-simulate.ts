/** `npm run rules:simulate -- --survey answers.json [--handover h.json] [--role admin] [--account id] [--user id] [--now iso] [--dir rules]`. */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { readRulesDir } from "../src/adapters/rules-dir.js";
import { buildFacts, type HandoverView } from "../src/core/facts.js";
import { handoverMappingSchema } from "../src/core/handover/mapping-schema.js";
import { loadRuleset, subjectKey } from "../src/core/ruleset/index.js";

const { values } = parseArgs({
  options: {
    survey: { type: "string" },
    handover: { type: "string" },
    role: { type: "string" },
    account: { type: "string", default: "simulated-account" },
    user: { type: "string" },
    now: { type: "string" },
    dir: { type: "string", default: process.env.RULES_DIR ?? "./rules" },
  },
});

const options = { extraSchemas: { "handover-mappings/": handoverMappingSchema } };
const fail = (message: string, detail?: unknown): never => {
  console.error(JSON.stringify({ error: message, ...(detail === undefined ? {} : { detail }) }, null, 2));
  process.exit(1);
};
const readJson = async (path: string): Promise<unknown> => JSON.parse(await readFile(path, "utf8"));

if (!values.survey) fail('--survey <file> is required: { "answers": { … } } or the answers object itself');
const read = await readRulesDir(values.dir!);
if (!read.ok) fail("rules cannot be read", read.error);
const loaded = read.ok ? await loadRuleset(read.value, options) : fail("unreachable");
if (!loaded.ok) fail("rules are invalid", loaded.error);
const rs = loaded.ok ? loaded.value : fail("unreachable");

const raw = (await readJson(values.survey!)) as Record<string, unknown>;
const survey = rs.answersSchema.safeParse("answers" in raw ? raw : { answers: raw });
if (!survey.success)
  fail(
    "survey answers are invalid",
    survey.error.issues.map((i) => ({ path: `survey.${i.path.join(".")}`, message: i.message })),
  );
const handover = values.handover ? ((await readJson(values.handover)) as HandoverView) : undefined;
const facts = buildFacts({
  accountId: values.account!,
  userId: values.user,
  role: values.role,
  answers: survey.success ? survey.data.answers : {},
  handover,
  now: values.now ? new Date(values.now) : new Date(),
  settings: rs.settings,
});
const decision = await rs.decider.decide(facts, subjectKey(values.account!, values.user));
console.log(
  JSON.stringify(
    { ruleset: { hash: rs.hash }, flow: decision.flow, rule: decision.rule, facts, decision },
    null,
    2,
  ),
);
