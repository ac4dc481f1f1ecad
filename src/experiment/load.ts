/**
 * Reads an experiment file (YAML or JSON) and validates it, reporting every problem at once as
 * `file:line:col  path  message`. JSON goes through the YAML parser too (JSON is YAML 1.2), so
 * both get the same node ranges and the same messages.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isMap, isNode, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { crossFieldIssues, pathText, type RawIssue } from './checks';
import { resolveEnvReferences } from './env-references';
import { Experiment } from './schema';
import { aliasIssue, type LimitIssue, MAX_EXPANDED_VALUES, tooDeep } from './yaml-limits';

export interface ExperimentIssue {
  file: string;
  line: number;
  col: number;
  path: string;
  message: string;
}

export class ExperimentError extends Error {
  constructor(readonly issues: ExperimentIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ExperimentError';
  }
}

export function formatIssue(issue: ExperimentIssue): string {
  return `${issue.file}:${issue.line}:${issue.col}  ${issue.path || '(file)'}  ${issue.message}`;
}

export interface LoadedExperiment {
  file: string;
  experiment: Experiment;
  /** The file as written, so a run records exactly what it ran. */
  source: string;
  sha256: string;
}

export async function loadExperiment(file: string): Promise<LoadedExperiment> {
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (error) {
    const reasons: Record<string, string> = {
      ENOENT: 'no such file',
      EISDIR: 'it is a directory',
      EACCES: 'permission denied',
      ENOTDIR: 'a part of the path is not a directory',
    };
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const reason = reasons[code] ?? (error as Error).message;
    throw new ExperimentError([
      { file, line: 1, col: 1, path: '', message: `cannot read the file: ${reason}` },
    ]);
  }
  return { file, source, sha256: sha256(source), experiment: parseExperiment(source, file) };
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function parseExperiment(
  source: string,
  file: string,
  env: Record<string, string | undefined> = process.env,
): Experiment {
  const lineCounter = new LineCounter();
  const at = (offset: number) => lineCounter.linePos(offset);
  const refuse = ({ offset, path = [], message }: LimitIssue) => {
    const { line, col } = at(offset);
    return new ExperimentError([{ file, line, col, path: pathText(path), message }]);
  };
  // Before the document is composed: composing a very deep one exhausts the stack.
  const deep = tooDeep(source);
  if (deep) {
    lineCounter.addNewLine(0);
    for (let newline = source.indexOf('\n'); newline >= 0; newline = source.indexOf('\n', newline + 1))
      lineCounter.addNewLine(newline + 1);
    throw refuse(deep);
  }
  const doc = parseDocument(source, { lineCounter, uniqueKeys: true, prettyErrors: false });

  if (doc.errors.length > 0) {
    throw new ExperimentError(
      doc.errors.map((error) => {
        const { line, col } = at(error.pos[0]);
        return { file, line, col, path: '', message: error.message.split('\n')[0] ?? error.code };
      }),
    );
  }

  const aliases = aliasIssue(doc);
  if (aliases) throw refuse(aliases);
  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: MAX_EXPANDED_VALUES });
  } catch (error) {
    // The checks above should have caught it; whatever yaml still refuses is refused here too.
    throw refuse({ offset: 0, message: (error as Error).message });
  }
  const resolved = resolveEnvReferences(js, env);
  const data = resolved.data;
  const located = (path: (string | number)[], message: string, key?: string): ExperimentIssue => {
    const offset = locate(doc.contents, path, key);
    const { line, col } = at(offset);
    return { file, line, col, path: pathText(key === undefined ? path : [...path, key]), message };
  };

  const issues: ExperimentIssue[] = resolved.issues.map((issue) => located(issue.path, issue.message));
  const result = Experiment.safeParse(data);
  if (!result.success) {
    // A value whose environment reference is missing is reported once, for that reason.
    const unresolved = new Set(resolved.issues.map((issue) => pathText(issue.path)));
    for (const issue of flattenIssues(result.error.issues, data)) {
      if (unresolved.has(pathText(issue.path))) continue;
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) issues.push(located(issue.path, `unknown key "${key}"`, key));
      } else {
        issues.push(located(issue.path, describe(issue, valueAt(data, issue.path))));
      }
    }
  }
  for (const issue of crossFieldIssues(data) as RawIssue[]) issues.push(located(issue.path, issue.message));

  if (issues.length > 0 || !result.success) {
    issues.sort((a, b) => a.line - b.line || a.col - b.col);
    throw new ExperimentError(dedupe(issues));
  }
  return result.data;
}

/** An issue at `path` of a loaded file, found after loading: a server refused what the file says. */
export function issueAt(
  loaded: LoadedExperiment,
  path: (string | number)[],
  message: string,
): ExperimentIssue {
  const lineCounter = new LineCounter();
  const doc = parseDocument(loaded.source, { lineCounter, prettyErrors: false });
  const { line, col } = lineCounter.linePos(locate(doc.contents, path));
  return { file: loaded.file, line, col, path: pathText(path), message };
}

type Issue = z.core.$ZodIssue & { path: (string | number)[] };

/**
 * A union's error holds one list of issues per alternative. Reporting all of them buries the one
 * that matters, so pick the alternative the author evidently meant: the one whose issues are
 * about keys that are present rather than about the shape of the whole value.
 */
function flattenIssues(
  issues: readonly z.core.$ZodIssue[],
  data: unknown,
  base: (string | number)[] = [],
): Issue[] {
  const out: Issue[] = [];
  for (const issue of issues) {
    const path = [...base, ...(issue.path as (string | number)[])];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const value = valueAt(data, path);
      const best = [...issue.errors].sort((a, b) => mismatch(a, value) - mismatch(b, value))[0] ?? [];
      out.push(...flattenIssues(best, data, path));
    } else {
      out.push({ ...issue, path } as Issue);
    }
  }
  return out;
}

function mismatch(branch: readonly z.core.$ZodIssue[], value: unknown): number {
  let score = branch.length;
  for (const issue of branch) {
    const atRoot = issue.path.length === 0;
    if (atRoot && (issue.code === 'invalid_type' || issue.code === 'unrecognized_keys')) score += 10;
    const key = issue.path[0];
    if (key !== undefined && valueAt(value, [key as string | number]) === undefined) score += 5;
  }
  return score;
}

function describe(issue: Issue, value: unknown): string {
  if (issue.code === 'invalid_type' && value === undefined) return `missing (expected ${issue.expected})`;
  if (issue.code === 'invalid_type') return `expected ${issue.expected}, got ${typeName(value)}`;
  if (issue.code === 'invalid_value') {
    return `expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}, got ${JSON.stringify(value)}`;
  }
  if (issue.code === 'invalid_union' && 'options' in issue && issue.options) {
    return `expected one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}, got ${JSON.stringify(value)}`;
  }
  return issue.message.replace(/^Invalid input: /, '');
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function valueAt(data: unknown, path: readonly (string | number)[]): unknown {
  let current = data;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

/**
 * The source offset of the node at `path`, or of its key when `key` is given. A path that does
 * not exist in the file (a missing key) points at the nearest enclosing node that does.
 */
function locate(root: unknown, path: readonly (string | number)[], key?: string): number {
  let node = root;
  let offset = start(root, 0);
  for (const part of path) {
    const entry = entryOf(node, part);
    if (!entry) return offset;
    if (!isNode(entry.value)) return start(entry.key, offset);
    node = entry.value;
    offset = start(node, offset);
  }
  if (key === undefined) return offset;
  return start(entryOf(node, key)?.key, offset);
}

function entryOf(node: unknown, part: string | number): { key?: unknown; value: unknown } | undefined {
  if (isMap(node)) {
    const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === part);
    return pair ? { key: pair.key, value: pair.value } : undefined;
  }
  if (isSeq(node) && typeof part === 'number' && part < node.items.length) return { value: node.items[part] };
  return undefined;
}

function start(node: unknown, fallback: number): number {
  return isNode(node) ? ((node as Node).range?.[0] ?? fallback) : fallback;
}

function dedupe(issues: ExperimentIssue[]): ExperimentIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const text = formatIssue(issue);
    if (seen.has(text)) return false;
    seen.add(text);
    return true;
  });
}
