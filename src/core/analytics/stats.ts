/** Small, exact statistics for the analytics reports (no sampling, no dependencies). */

/** Nearest-rank percentile (p in (0, 100]) of unsorted values; undefined when there are none. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

export interface NpsSummary {
  /** promoters % − detractors %, rounded to an integer in [-100, 100]; null without responses. */
  readonly score: number | null;
  readonly promoters: number;
  readonly passives: number;
  readonly detractors: number;
  readonly responses: number;
}

/** NPS from bucket counts. */
export function nps(promoters: number, passives: number, detractors: number): NpsSummary {
  const responses = promoters + passives + detractors;
  const score = responses === 0 ? null : Math.round((100 * (promoters - detractors)) / responses);
  return { score, promoters, passives, detractors, responses };
}

const Z95 = 1.959963984540054;

/** Wilson score 95% interval of a proportion; [0, 1] without samples. */
export function wilsonInterval(successes: number, n: number, z = Z95): readonly [number, number] {
  if (n <= 0) return [0, 1];
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 via erf; |error| < 1.5e-7). */
export function normalCdf(x: number): number {
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / Math.SQRT2);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

export interface ProportionTest {
  /** rate B − rate A */
  readonly diff: number;
  readonly z: number;
  /** two-sided p-value */
  readonly p: number;
  readonly significant: boolean;
}

/**
 * Two-proportion z-test (pooled). Not significant when either side has fewer than `minSamples`
 * or the pooled rate is 0 or 1 (no variance to test against).
 */
export function twoProportionTest(
  a: { readonly successes: number; readonly n: number },
  b: { readonly successes: number; readonly n: number },
  alpha = 0.05,
  minSamples = 30,
): ProportionTest {
  const pa = a.n > 0 ? a.successes / a.n : 0;
  const pb = b.n > 0 ? b.successes / b.n : 0;
  const diff = pb - pa;
  if (a.n < 1 || b.n < 1) return { diff, z: 0, p: 1, significant: false };
  const pooled = (a.successes + b.successes) / (a.n + b.n);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.n + 1 / b.n));
  if (se === 0) return { diff, z: 0, p: 1, significant: false };
  const z = diff / se;
  const p = Math.min(1, 2 * (1 - normalCdf(Math.abs(z))));
  return { diff, z, p, significant: p < alpha && a.n >= minSamples && b.n >= minSamples };
}
