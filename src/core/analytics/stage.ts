import type { FlowDefinition } from "../ruleset/schemas.js";

/**
 * The lifecycle stage an instance is in, derived from where it is: the `stage` of its current
 * step, else of the nearest earlier step that declares one (a stage marks where a phase begins).
 */
export function stageOf(
  flow: FlowDefinition | undefined,
  stepId: string | null | undefined,
): string | undefined {
  if (!flow || !stepId) return undefined;
  const i = flow.steps.findIndex((s) => s.id === stepId);
  for (let j = i; j >= 0; j--) {
    const stage = (flow.steps[j] as { stage?: string } | undefined)?.stage;
    if (stage) return stage;
  }
  return undefined;
}
