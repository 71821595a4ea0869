/** The JSON the Flows page reads (see src/http/routes/admin/analytics*.ts and suggestions.ts). */

export interface DurationSummary {
  median: number | null;
  p90: number | null;
  samples: number;
}

export interface StepFigures {
  stepId: string;
  stage?: string;
  entered: number;
  completed: number;
  dropOff: number;
  dropOffRate: number | null;
  overdue: number;
  timeInStep: DurationSummary;
}

export interface FlowSegmentFigures {
  flow: string;
  segment: string;
  started: number;
  completed: number;
  failed: number;
  completionRate: number | null;
  timeToComplete: DurationSummary;
  activated: number;
  activationRate: number | null;
  nps: { score: number | null; promoters: number; passives: number; detractors: number; responses: number };
  steps: StepFigures[];
}

export interface FlowsReport {
  from: string;
  to: string;
  flows: FlowSegmentFigures[];
}

export interface StuckRow {
  accountId: string;
  instanceId: string;
  userId?: string;
  flow: { id: string; version: number };
  segment: string;
  step: { id: string; type: string | null; stage: string | null };
  stepEnteredAt: string;
  dueAt: string;
  overdueSeconds: number;
}

export interface StuckReport {
  now: string;
  stuck: StuckRow[];
}

export interface RateFigure {
  count: number;
  rate: number | null;
  ci95: number[];
}

export interface ExperimentFigures {
  experiment: string;
  variants: { variant: string; flow: string; n: number; completion: RateFigure; activation: RateFigure }[];
  comparisons: {
    metric: "completion" | "activation";
    a: string;
    b: string;
    diff: number;
    z: number;
    p: number;
    significant: boolean;
  }[];
  significant: boolean;
}

export interface ExperimentsReport {
  from: string;
  to: string;
  experiments: ExperimentFigures[];
}

export interface Suggestion {
  id: string;
  segment: string;
  current: { flow: string; started: number; completionRate: number };
  suggested: { flow: string; started: number; completionRate: number };
  test: { diff: number; z: number; p: number; significant: boolean };
  rule: Record<string, unknown>;
  diff: { files: Record<string, unknown> };
  ruleset: { files: Record<string, unknown> };
}

export interface SuggestionsReport {
  from: string;
  to: string;
  basedOn: { rulesetVersion: number };
  suggestions: Suggestion[];
}

export interface InstancesReport {
  now: string;
  scanned: number;
  truncated: boolean;
  buckets: { flow: string; version: number; step: string | null; status: string; count: number }[];
}
