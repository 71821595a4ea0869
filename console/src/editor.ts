import { json, jsonParseLinter } from "@codemirror/lang-json";
import { defaultHighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { type Diagnostic, forceLinting, linter, lintGutter } from "@codemirror/lint";
import { Annotation, EditorState, type Extension, Prec, StateEffect, StateField } from "@codemirror/state";
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  keymap,
  lineNumbers,
  showTooltip,
  type Tooltip,
} from "@codemirror/view";
import { StyleModule } from "style-mod";
import { contextAt, rangeOfPath } from "./json-path.js";
import { keySuggestions, type Suggestion, schemaForFile, valueSuggestions } from "./schema.js";

// CodeMirror styles itself through style-mod, which writes a <style> element into a document's
// <head>; the console's CSP (`style-src 'self'`) blocks that. Constructable stylesheets are not
// inline styles, and style-mod uses them for any root without a <head>, so the document is
// handed over as such a root.
const documentAsAdoptingRoot = {
  ownerDocument: document,
  get adoptedStyleSheets() {
    return document.adoptedStyleSheets;
  },
  set adoptedStyleSheets(sheets: CSSStyleSheet[]) {
    document.adoptedStyleSheets = sheets;
  },
};
const mount = StyleModule.mount.bind(StyleModule);
StyleModule.mount = (root, modules, options) =>
  mount(root === document ? (documentAsAdoptingRoot as unknown as ShadowRoot) : root, modules, options);

/** A validation problem for one file, located by JSON path. */
export interface FileProblem {
  readonly path: string;
  readonly message: string;
  readonly severity: "error" | "warning";
}

/** Problems the server reported, per file; the lint source reads them on every pass. */
export type ProblemSource = (file: string) => readonly FileProblem[];

// --- a small undo history (the @codemirror/commands package is not installed) -------------

const fromHistory = Annotation.define<boolean>();
const setHistory = StateEffect.define<History>();
interface History {
  readonly done: string[];
  readonly undone: string[];
  readonly lastAt: number;
}
const historyField = StateField.define<History>({
  create: () => ({ done: [], undone: [], lastAt: 0 }),
  update(h, tr) {
    for (const e of tr.effects) if (e.is(setHistory)) return e.value;
    if (!tr.docChanged || tr.annotation(fromHistory)) return h;
    const now = Date.now();
    // Typing within a second is one undo step.
    if (now - h.lastAt < 1000 && h.done.length > 0) return { ...h, undone: [], lastAt: now };
    return { done: [...h.done.slice(-99), tr.startState.doc.toString()], undone: [], lastAt: now };
  },
});

function travel(view: EditorView, back: boolean): boolean {
  const h = view.state.field(historyField);
  const stack = back ? h.done : h.undone;
  const text = stack[stack.length - 1];
  if (text === undefined) return true;
  const current = view.state.doc.toString();
  const next: History = back
    ? { done: h.done.slice(0, -1), undone: [...h.undone, current], lastAt: 0 }
    : { done: [...h.done, current], undone: h.undone.slice(0, -1), lastAt: 0 };
  view.dispatch({
    changes: { from: 0, to: view.state.doc.length, insert: text },
    annotations: fromHistory.of(true),
    effects: setHistory.of(next),
  });
  return true;
}

// --- schema-driven completion (Ctrl-Space) --------------------------------------------------

interface Completion {
  readonly options: readonly Suggestion[];
  readonly selected: number;
  readonly from: number;
  readonly to: number;
}
const setCompletion = StateEffect.define<Completion | null>();
const completionField = StateField.define<Completion | null>({
  create: () => null,
  update(value, tr) {
    for (const e of tr.effects) if (e.is(setCompletion)) return e.value;
    for (const e of tr.effects) if (e.is(setHistory)) return null;
    return tr.docChanged || tr.selection ? null : value;
  },
  provide: (f) =>
    showTooltip.compute([f], (state): Tooltip | null => {
      const c = state.field(f);
      if (!c) return null;
      return {
        pos: c.from,
        above: false,
        create: () => {
          const dom = document.createElement("ul");
          dom.className = "completion";
          dom.setAttribute("role", "listbox");
          dom.setAttribute("aria-label", "Suggestions from the schema");
          c.options.forEach((o, i) => {
            const li = document.createElement("li");
            li.setAttribute("role", "option");
            li.setAttribute("aria-selected", String(i === c.selected));
            li.textContent = o.label;
            if (o.detail) {
              const d = document.createElement("span");
              d.className = "detail";
              d.textContent = ` ${o.detail}`;
              li.appendChild(d);
            }
            dom.appendChild(li);
          });
          return { dom };
        },
      };
    }),
});

function openCompletion(file: string) {
  return (view: EditorView): boolean => {
    const schema = schemaForFile(file);
    if (!schema) return false;
    const pos = view.state.selection.main.head;
    const text = view.state.doc.toString();
    const before = text.slice(Math.max(0, pos - 80), pos);
    const typed = /"?[A-Za-z0-9_$-]*$/.exec(before)?.[0] ?? "";
    const ctx = contextAt(text, pos - typed.length);
    let options =
      ctx.valueOfKey !== undefined
        ? valueSuggestions(schema, ctx.path, ctx.valueOfKey)
        : ctx.inObject
          ? keySuggestions(schema, ctx.path, ctx.present)
          : [];
    const prefix = typed.replace(/^"/, "");
    if (prefix) options = options.filter((o) => o.label.replace(/^"/, "").startsWith(prefix));
    if (options.length === 0) return true;
    view.dispatch({
      effects: setCompletion.of({
        options: options.slice(0, 40),
        selected: 0,
        from: pos - typed.length,
        to: pos,
      }),
    });
    return true;
  };
}

function moveCompletion(by: number) {
  return (view: EditorView): boolean => {
    const c = view.state.field(completionField);
    if (!c) return false;
    const n = c.options.length;
    view.dispatch({ effects: setCompletion.of({ ...c, selected: (c.selected + by + n) % n }) });
    return true;
  };
}

function acceptCompletion(view: EditorView): boolean {
  const c = view.state.field(completionField);
  const o = c?.options[c.selected];
  if (!c || !o) return false;
  view.dispatch({
    changes: { from: c.from, to: c.to, insert: o.apply },
    selection: { anchor: c.from + o.apply.length },
    effects: setCompletion.of(null),
  });
  return true;
}

function closeCompletion(view: EditorView): boolean {
  if (!view.state.field(completionField)) return false;
  view.dispatch({ effects: setCompletion.of(null) });
  return true;
}

/** Select-all must select the whole document, not only the lines the viewport has rendered. */
function selectAll(view: EditorView): boolean {
  view.dispatch({ selection: { anchor: 0, head: view.state.doc.length }, userEvent: "select" });
  return true;
}

/** Enter keeps the line's indentation (and indents after `{` or `[`). */
function newlineAndIndent(view: EditorView): boolean {
  const { head } = view.state.selection.main;
  const line = view.state.doc.lineAt(head);
  const indent = /^\s*/.exec(line.text)?.[0] ?? "";
  const extra = /[{[]\s*$/.test(line.text.slice(0, head - line.from)) ? "  " : "";
  const insert = `\n${indent}${extra}`;
  view.dispatch(view.state.replaceSelection(insert), { scrollIntoView: true, userEvent: "input" });
  return true;
}

/** The editor state for one ruleset file: JSON language, schema completion, lint from syntax + server. */
export function fileState(
  file: string,
  text: string,
  problems: ProblemSource,
  onChange: () => void,
): EditorState {
  const syntax = jsonParseLinter();
  const extensions: Extension[] = [
    lineNumbers(),
    highlightActiveLine(),
    drawSelection(),
    json(),
    syntaxHighlighting(defaultHighlightStyle),
    historyField,
    completionField,
    Prec.highest(
      keymap.of([
        { key: "Ctrl-Space", run: openCompletion(file) },
        { key: "ArrowDown", run: moveCompletion(1) },
        { key: "ArrowUp", run: moveCompletion(-1) },
        { key: "Enter", run: (v) => acceptCompletion(v) || newlineAndIndent(v) },
        { key: "Tab", run: acceptCompletion },
        { key: "Escape", run: closeCompletion },
        { key: "Mod-a", run: selectAll },
        { key: "Mod-z", run: (v) => travel(v, true) },
        { key: "Mod-Shift-z", run: (v) => travel(v, false) },
        { key: "Mod-y", run: (v) => travel(v, false) },
      ]),
    ),
    EditorView.updateListener.of((u) => {
      if (u.docChanged) onChange();
    }),
    linter(
      (view) => {
        const syntaxErrors = syntax(view);
        if (syntaxErrors.length > 0) return syntaxErrors;
        const text = view.state.doc.toString();
        return problems(file).map((p): Diagnostic => {
          const r = rangeOfPath(text, p.path);
          return {
            from: r.from,
            to: Math.max(r.to, r.from),
            severity: p.severity,
            message: `${p.path}: ${p.message}`,
          };
        });
      },
      { delay: 250 },
    ),
    lintGutter(),
    EditorView.contentAttributes.of({ "aria-label": `JSON of ${file}` }),
    EditorView.lineWrapping,
  ];
  return EditorState.create({ doc: text, extensions });
}

/** Re-runs lint now (after new server results). */
export function relint(view: EditorView): void {
  forceLinting(view);
}

/** Moves the cursor to a JSON path and focuses the editor. */
export function revealPath(view: EditorView, path: string): void {
  const r = rangeOfPath(view.state.doc.toString(), path);
  view.dispatch({ selection: { anchor: r.from, head: r.to }, scrollIntoView: true });
  view.focus();
}
