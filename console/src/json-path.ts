import { jsonLanguage } from "@codemirror/lang-json";
import type { SyntaxNode, Tree } from "@lezer/common";

/** One step of a JSON path: an object key or an array index. */
export type Segment = string | number;

/** Parses `$.rules[2].conditions.all[0].operator` (also `["a.b"]` keys) into segments. */
export function parsePath(path: string): Segment[] {
  const out: Segment[] = [];
  const re = /\.([^.[\]]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]|\['([^']*)'\]/g;
  const body = path.startsWith("$") ? path.slice(1) : path ? `.${path}` : "";
  for (let m = re.exec(body); m; m = re.exec(body)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[3] !== undefined) out.push(JSON.parse(`"${m[3]}"`) as string);
    else if (m[4] !== undefined) out.push(m[4]);
  }
  return out;
}

const VALUE_TYPES = new Set(["Object", "Array", "String", "Number", "True", "False", "Null"]);

function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
}

function keyOf(prop: SyntaxNode, text: string): string | undefined {
  const name = prop.getChild("PropertyName");
  if (!name) return undefined;
  try {
    return JSON.parse(text.slice(name.from, name.to)) as string;
  } catch {
    return text.slice(name.from + 1, name.to - 1);
  }
}

function propertyValue(prop: SyntaxNode): SyntaxNode | undefined {
  return children(prop).find((c) => VALUE_TYPES.has(c.name));
}

/** The top-level value of a parsed document. */
function rootValue(tree: Tree): SyntaxNode | undefined {
  return children(tree.topNode).find((c) => VALUE_TYPES.has(c.name));
}

export function parseJson(text: string): Tree {
  return jsonLanguage.parser.parse(text);
}

/**
 * The text range a JSON path points at: the value when it exists; else the deepest part of the
 * path that exists (so "missing key" problems land on the object that lacks it).
 */
export function rangeOfPath(
  text: string,
  path: string,
  tree: Tree = parseJson(text),
): { from: number; to: number } {
  let node = rootValue(tree);
  if (!node) return { from: 0, to: Math.min(text.length, 1) };
  let prop: SyntaxNode | undefined;
  for (const seg of parsePath(path)) {
    let next: SyntaxNode | undefined;
    if (typeof seg === "number" && node.name === "Array") {
      next = children(node).filter((c) => VALUE_TYPES.has(c.name))[seg];
      prop = undefined;
    } else if (node.name === "Object") {
      const p = children(node).find((c) => c.name === "Property" && keyOf(c, text) === String(seg));
      next = p ? propertyValue(p) : undefined;
      prop = p;
    }
    if (!next) {
      // Point at the opening bracket line of the container, not the whole (possibly huge) block.
      return prop ? { from: prop.from, to: prop.to } : { from: node.from, to: node.from + 1 };
    }
    node = next;
  }
  // Objects and arrays: mark the key (or the opening bracket) rather than many lines.
  if (node.name === "Object" || node.name === "Array") {
    const name = prop?.getChild("PropertyName");
    return name ? { from: name.from, to: name.to } : { from: node.from, to: node.from + 1 };
  }
  return { from: node.from, to: node.to };
}

/** Where the cursor is: the path of the innermost object/array around `pos`, and whether a key is expected. */
export interface CursorContext {
  readonly path: Segment[];
  /** The object the cursor is directly inside (for key completion), if any. */
  readonly inObject: boolean;
  /** The keys already present in that object. */
  readonly present: string[];
  /** When the cursor is on a property's value: that property's key. */
  readonly valueOfKey?: string;
}

export function contextAt(text: string, pos: number, tree: Tree = parseJson(text)): CursorContext {
  const path: Segment[] = [];
  let node = rootValue(tree);
  let container: SyntaxNode | undefined;
  let valueOfKey: string | undefined;
  while (node && node.from < pos && pos <= node.to) {
    if (node.name === "Object") {
      container = node;
      valueOfKey = undefined;
      const props = children(node).filter((c) => c.name === "Property");
      const p = props.find((c) => c.from <= pos && pos <= c.to);
      if (!p) break;
      const key = keyOf(p, text);
      const v = propertyValue(p);
      const name = p.getChild("PropertyName");
      if (name && pos <= name.to) break;
      if (!v || key === undefined) break;
      if (!(v.from <= pos && pos <= v.to) || (v.name !== "Object" && v.name !== "Array")) {
        valueOfKey = key;
        break;
      }
      path.push(key);
      node = v;
    } else if (node.name === "Array") {
      container = node;
      valueOfKey = undefined;
      const items = children(node).filter((c) => VALUE_TYPES.has(c.name));
      const i = items.findIndex((c) => c.from <= pos && pos <= c.to);
      const item = items[i];
      if (!item || (item.name !== "Object" && item.name !== "Array")) break;
      path.push(i);
      node = item;
    } else break;
  }
  const inObject = container?.name === "Object";
  const present =
    inObject && container
      ? children(container)
          .filter((c) => c.name === "Property")
          .map((c) => keyOf(c, text) ?? "")
      : [];
  return { path, inObject, present, ...(valueOfKey !== undefined ? { valueOfKey } : {}) };
}
