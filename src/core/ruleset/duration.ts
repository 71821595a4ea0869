/** ISO 8601 durations as flows write them (`PT2H`, `P3D`, `P1W`, `P1DT12H`). */

const DURATION = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

const MS = { week: 604_800_000, day: 86_400_000, hour: 3_600_000, minute: 60_000, second: 1000 } as const;

/** Milliseconds in an ISO 8601 duration, or null when it is not one we accept (no years or months: their length varies). */
export function parseDuration(iso: string): number | null {
  const m = DURATION.exec(iso);
  if (!m || iso === "P" || iso.endsWith("T")) return null;
  const [, w, d, h, min, s] = m;
  const ms =
    Number(w ?? 0) * MS.week +
    Number(d ?? 0) * MS.day +
    Number(h ?? 0) * MS.hour +
    Number(min ?? 0) * MS.minute +
    Number(s ?? 0) * MS.second;
  return ms > 0 ? Math.round(ms) : null;
}
