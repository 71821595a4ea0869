/** `npm run rules:check [dir]`: validates RULES_DIR and runs its tests/*.json; exit 1 on any problem. */
import { readRulesDir } from "../src/adapters/rules-dir.js";
import { handoverMappingSchema } from "../src/core/handover/mapping-schema.js";
import { loadRuleset, type RuleProblem, runRuleTests, validateRuleset } from "../src/core/ruleset/index.js";

const dir = process.argv[2] ?? process.env.RULES_DIR ?? "./rules";
/** Same options as the service (src/adapters/rules/load.ts): CRM mappings are checked too. */
const options = { extraSchemas: { "handover-mappings/": handoverMappingSchema } };
const show = (p: RuleProblem) => `  ${p.file} ${p.path}: ${p.message}`;

async function main(): Promise<number> {
  console.log(`Checking rules in ${dir}`);
  const read = await readRulesDir(dir);
  if (!read.ok) {
    console.log(`\n✗ ${read.error.length} problem(s), some files cannot be read:`);
    for (const p of read.error) console.log(show(p));
    return 1;
  }
  const { problems, warnings } = validateRuleset(read.value, options);
  if (warnings.length > 0) {
    console.log(`\n! ${warnings.length} warning(s):`);
    for (const p of warnings) console.log(show(p));
  }
  if (problems.length > 0) {
    console.log(`\n✗ ${problems.length} problem(s):`);
    for (const p of problems) console.log(show(p));
    return 1;
  }
  const loaded = await loadRuleset(read.value, options);
  if (!loaded.ok) {
    for (const p of loaded.error) console.log(show(p));
    return 1;
  }
  const rs = loaded.value;
  console.log(
    `\n✓ valid: ${Object.keys(rs.files).length} files, ${rs.routing.length} rules, ${rs.flows.size} flows, hash ${rs.hash.slice(0, 12)}`,
  );
  const results = await runRuleTests(rs);
  let lastFile = "";
  for (const r of results) {
    if (r.file !== lastFile) console.log(`\n${r.file}`);
    lastFile = r.file;
    const got = `${r.actual.flow}${r.actual.rule ? ` (rule ${r.actual.rule})` : " (default)"}`;
    if (r.passed) console.log(`  ✓ ${r.name} → ${got}`);
    else {
      const want = `${r.expected.flow}${r.expected.rule === undefined ? "" : ` (rule ${r.expected.rule ?? "default"})`}`;
      console.log(`  ✗ ${r.name}\n      expected ${want}\n      got      ${got}`);
    }
  }
  const failed = results.filter((r) => !r.passed).length;
  console.log(`\n${failed === 0 ? "✓" : "✗"} ${results.length - failed}/${results.length} test cases pass`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
