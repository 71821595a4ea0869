/**
 * Stable experiment assignment: the same experiment and subject always get the same variant,
 * on Node and on Workers alike (pure integer arithmetic over the UTF-8 bytes).
 */
import type { ExperimentVariant } from "./types.js";

/** FNV-1a (32-bit) over the UTF-8 bytes of `text`, finished with murmur3's fmix32, mapped to [0, 1). */
export function hashToUnit(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    let c = text.codePointAt(i)!;
    if (c > 0xffff) i++;
    if (c < 0x80) h = Math.imul(h ^ c, 0x01000193);
    else {
      const bytes =
        c < 0x800
          ? [0xc0 | (c >> 6), 0x80 | (c & 63)]
          : c < 0x10000
            ? [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63)]
            : [0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63)];
      for (c of bytes) h = Math.imul(h ^ c, 0x01000193);
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x1_0000_0000;
}

/**
 * Picks a variant by walking cumulative weights with hash(`experimentId:subjectKey`).
 * Weights that are not positive finite numbers never win; if none is positive the first variant
 * is used; undefined only when there are no variants.
 */
export function pickVariant(
  experimentId: string,
  subjectKey: string,
  variants: readonly ExperimentVariant[],
): ExperimentVariant | undefined {
  const weightOf = (v: ExperimentVariant): number =>
    Number.isFinite(v.weight) && v.weight > 0 ? v.weight : 0;
  const total = variants.reduce((sum, v) => sum + weightOf(v), 0);
  if (total <= 0) return variants[0];
  const target = hashToUnit(`${experimentId}:${subjectKey}`) * total;
  let cumulative = 0;
  for (const v of variants) {
    cumulative += weightOf(v);
    if (target < cumulative) return v;
  }
  return variants.findLast((v) => weightOf(v) > 0);
}
