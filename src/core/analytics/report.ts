/** Folds analytics events into per-flow/segment figures and per-experiment comparisons; pure. */
import type { AnalyticsEvent } from "./event.js";
import { npsBucket } from "./event.js";
import {
  type NpsSummary,
  nps,
  type ProportionTest,
  percentile,
  twoProportionTest,
  wilsonInterval,
} from "./stats.js";

export interface Window {
  /** ms since epoch, inclusive */
  readonly from: number;
  /** ms since epoch, inclusive */
  readonly to: number;
}

export interface DurationSummary {
  /** ms */
  readonly median: number | null;
  /** ms */
  readonly p90: number | null;
  readonly samples: number;
}

export interface StepFigures {
  readonly stepId: string;
  readonly stage?: string;
  readonly entered: number;
  readonly completed: number;
  /** entered − completed (instances that entered and have not moved on) */
  readonly dropOff: number;
  readonly dropOffRate: number | null;
  readonly overdue: number;
  readonly timeInStep: DurationSummary;
}

export interface FlowSegmentFigures {
  readonly flow: string;
  readonly segment: string;
  readonly started: number;
  readonly completed: number;
  readonly failed: number;
  readonly completionRate: number | null;
  readonly timeToComplete: DurationSummary;
  readonly activated: number;
  readonly activationRate: number | null;
  readonly nps: NpsSummary;
  readonly steps: readonly StepFigures[];
}

interface StepAcc {
  stage?: string;
  entered: number;
  completed: number;
  overdue: number;
  durations: number[];
}

interface Acc {
  started: number;
  completed: number;
  failed: number;
  activated: number;
  promoters: number;
  passives: number;
  detractors: number;
  toComplete: number[];
  steps: Map<string, StepAcc>;
  order: string[];
}

const newAcc = (): Acc => ({
  started: 0,
  completed: 0,
  failed: 0,
  activated: 0,
  promoters: 0,
  passives: 0,
  detractors: 0,
  toComplete: [],
  steps: new Map(),
  order: [],
});

const rate = (num: number, den: number) => (den > 0 ? num / den : null);

function durations(values: readonly number[]): DurationSummary {
  return {
    median: percentile(values, 50) ?? null,
    p90: percentile(values, 90) ?? null,
    samples: values.length,
  };
}

/**
 * Per flow and segment: counts of events inside the window; durations for completions inside
 * the window whose start (decision, reroute or step entry) may lie earlier in `events`, so pass
 * a look-back before `from` for them. Events must be in time order (stream order).
 */
export function flowFigures(events: Iterable<AnalyticsEvent>, w: Window): FlowSegmentFigures[] {
  const accs = new Map<string, Acc>();
  const started = new Map<string, number>();
  const entered = new Map<string, number>();
  const acc = (flow: string, segment: string) => {
    const key = `${flow}\u0000${segment}`;
    let a = accs.get(key);
    if (!a) {
      a = newAcc();
      accs.set(key, a);
    }
    return a;
  };
  const stepAcc = (a: Acc, stepId: string) => {
    let s = a.steps.get(stepId);
    if (!s) {
      s = { entered: 0, completed: 0, overdue: 0, durations: [] };
      a.steps.set(stepId, s);
      a.order.push(stepId);
    }
    return s;
  };
  for (const e of events) {
    const t = Date.parse(e.at);
    const inside = t >= w.from && t <= w.to;
    const seg = e.segment ?? "unknown";
    const inst = e.instanceId;
    switch (e.type) {
      case "decision":
      case "rerouted":
        if (inst) started.set(inst, t);
        if (inside) acc(e.flow, seg).started++;
        break;
      case "step.entered":
        if (inst && e.stepId) entered.set(`${inst}\u0000${e.stepId}`, t);
        if (inside && e.stepId) {
          const s = stepAcc(acc(e.flow, seg), e.stepId);
          s.entered++;
          if (e.stage) s.stage = e.stage;
        }
        break;
      case "step.completed": {
        if (!inside || !e.stepId) break;
        const s = stepAcc(acc(e.flow, seg), e.stepId);
        s.completed++;
        const since = inst ? entered.get(`${inst}\u0000${e.stepId}`) : undefined;
        if (since !== undefined) s.durations.push(t - since);
        break;
      }
      case "task.overdue":
        if (inside && e.stepId) stepAcc(acc(e.flow, seg), e.stepId).overdue++;
        break;
      case "flow.completed": {
        if (!inside) break;
        const a = acc(e.flow, seg);
        a.completed++;
        const since = inst ? started.get(inst) : undefined;
        if (since !== undefined) a.toComplete.push(t - since);
        break;
      }
      case "flow.failed":
        if (inside) acc(e.flow, seg).failed++;
        break;
      case "outcome": {
        if (!inside) break;
        const a = acc(e.flow, seg);
        if (e.outcome === "activated") a.activated++;
        if (e.outcome === "nps" && e.value !== undefined) {
          const b = npsBucket(e.value);
          if (b === "promoter") a.promoters++;
          else if (b === "passive") a.passives++;
          else a.detractors++;
        }
        break;
      }
    }
  }
  const out: FlowSegmentFigures[] = [];
  for (const [key, a] of accs) {
    const [flow = "", segment = ""] = key.split("\u0000");
    out.push({
      flow,
      segment,
      started: a.started,
      completed: a.completed,
      failed: a.failed,
      completionRate: rate(a.completed, a.started),
      timeToComplete: durations(a.toComplete),
      activated: a.activated,
      activationRate: rate(a.activated, a.started),
      nps: nps(a.promoters, a.passives, a.detractors),
      steps: a.order.map((stepId) => {
        const s = a.steps.get(stepId)!;
        const dropOff = Math.max(0, s.entered - s.completed);
        return {
          stepId,
          ...(s.stage ? { stage: s.stage } : {}),
          entered: s.entered,
          completed: s.completed,
          dropOff,
          dropOffRate: rate(dropOff, s.entered),
          overdue: s.overdue,
          timeInStep: durations(s.durations),
        };
      }),
    });
  }
  return out.sort((x, y) => x.flow.localeCompare(y.flow) || x.segment.localeCompare(y.segment));
}

export interface RateFigure {
  readonly count: number;
  readonly rate: number | null;
  /** Wilson 95% interval */
  readonly ci95: readonly [number, number];
}

export interface VariantFigures {
  readonly variant: string;
  readonly flow: string;
  readonly n: number;
  readonly completion: RateFigure;
  readonly activation: RateFigure;
}

export interface VariantComparison extends ProportionTest {
  readonly metric: "completion" | "activation";
  /** the baseline (first variant by name) */
  readonly a: string;
  readonly b: string;
}

export interface ExperimentFigures {
  readonly experiment: string;
  readonly variants: readonly VariantFigures[];
  readonly comparisons: readonly VariantComparison[];
  /** true when any comparison is significant at 95% */
  readonly significant: boolean;
}

const rateFigure = (count: number, n: number): RateFigure => ({
  count,
  rate: rate(count, n),
  ci95: wilsonInterval(count, n),
});

/**
 * Per experiment and variant: subjects assigned in the window, the share that completed their
 * flow and that reported `activated` (each subject once), with Wilson intervals and a
 * two-proportion z-test of every variant against the first.
 */
export function experimentFigures(
  events: Iterable<AnalyticsEvent>,
  w: Window,
  opts: { readonly alpha?: number; readonly minSamples?: number } = {},
): ExperimentFigures[] {
  type V = { flow: string; subjects: Set<string>; completed: Set<string>; activated: Set<string> };
  const exps = new Map<string, Map<string, V>>();
  const variantOf = (e: AnalyticsEvent): V | undefined => {
    if (!e.experiment || !e.variant) return undefined;
    let m = exps.get(e.experiment);
    if (!m) {
      m = new Map();
      exps.set(e.experiment, m);
    }
    let v = m.get(e.variant);
    if (!v) {
      v = { flow: e.flow, subjects: new Set(), completed: new Set(), activated: new Set() };
      m.set(e.variant, v);
    }
    return v;
  };
  for (const e of events) {
    const t = Date.parse(e.at);
    if (t < w.from || t > w.to) continue;
    const subject = e.instanceId ?? e.accountId;
    if (e.type === "decision") variantOf(e)?.subjects.add(subject);
    else if (e.type === "flow.completed") variantOf(e)?.completed.add(subject);
    else if (e.type === "outcome" && e.outcome === "activated") variantOf(e)?.activated.add(subject);
  }
  const out: ExperimentFigures[] = [];
  for (const [experiment, m] of [...exps].sort(([a], [b]) => a.localeCompare(b))) {
    const variants = [...m].sort(([a], [b]) => a.localeCompare(b));
    const figures = variants.map(([variant, v]): VariantFigures => {
      const n = v.subjects.size;
      return {
        variant,
        flow: v.flow,
        n,
        completion: rateFigure(v.completed.size, n),
        activation: rateFigure(v.activated.size, n),
      };
    });
    const comparisons: VariantComparison[] = [];
    const base = figures[0];
    for (const other of figures.slice(1)) {
      if (!base) break;
      for (const metric of ["completion", "activation"] as const) {
        const test = twoProportionTest(
          { successes: base[metric].count, n: base.n },
          { successes: other[metric].count, n: other.n },
          opts.alpha,
          opts.minSamples,
        );
        comparisons.push({ metric, a: base.variant, b: other.variant, ...test });
      }
    }
    out.push({
      experiment,
      variants: figures,
      comparisons,
      significant: comparisons.some((c) => c.significant),
    });
  }
  return out;
}
