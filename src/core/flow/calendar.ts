const DAY_MS = 86_400_000;

const isWeekend = (ms: number) => {
  const d = new Date(ms).getUTCDay();
  return d === 0 || d === 6;
};

/**
 * `start + ms`, counting whole days as business days (Mon–Fri, UTC) when `businessDays` is set:
 * a Friday plus P2D is the next Tuesday. The part below one day is added as plain time.
 */
export function addDuration(start: number, ms: number, businessDays: boolean): number {
  if (!businessDays) return start + ms;
  let days = Math.floor(ms / DAY_MS);
  let t = start;
  while (days > 0) {
    t += DAY_MS;
    if (!isWeekend(t)) days--;
  }
  return t + (ms % DAY_MS);
}
