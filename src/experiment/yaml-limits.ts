/**
 * What a YAML file may do before it is turned into data: how deep it nests and what its aliases
 * expand to. The `yaml` package composes documents recursively (a file nested ~850 levels deep
 * exhausts the stack, with a message per unwound level) and throws, unlocated, on an alias to no
 * anchor or on an alias bomb ("billion laughs"). These checks run first, on its iterative
 * CST and then on the document, and say where: every refusal carries the offset it is about.
 */
import { CST, type Document, isAlias, isCollection, isPair, isScalar, type Node, Parser } from 'yaml';

/** Far deeper than any experiment (an inline FIS template's filters are about 10 levels). */
export const MAX_DEPTH = 64;
/** Values the data may hold once every alias is expanded; the October 20 replay has ~600. */
export const MAX_EXPANDED_VALUES = 100_000;

export interface LimitIssue {
  offset: number;
  /** Where in the data, when known. */
  path?: (string | number)[];
  message: string;
}

/** The first place the source nests deeper than MAX_DEPTH collections, if any. */
export function tooDeep(source: string): LimitIssue | null {
  const stack: { token: CST.Token; depth: number }[] = [];
  for (const token of new Parser().parse(source)) stack.push({ token, depth: 0 });
  while (stack.length > 0) {
    const { token, depth } = stack.pop() as { token: CST.Token; depth: number };
    if (token.type === 'document') {
      if (token.value) stack.push({ token: token.value, depth });
    } else if (CST.isCollection(token)) {
      if (depth + 1 > MAX_DEPTH) {
        return {
          offset: token.offset,
          message: `nested more than ${MAX_DEPTH} levels deep; an experiment file needs far fewer`,
        };
      }
      for (const item of token.items) {
        if (item.key) stack.push({ token: item.key, depth: depth + 1 });
        if (item.value) stack.push({ token: item.value, depth: depth + 1 });
      }
    }
  }
  return null;
}

/**
 * Every alias must name an anchor set before it and outside itself, and the data, aliases
 * expanded, must stay under MAX_EXPANDED_VALUES. The first alias that breaks a rule is named.
 */
export function aliasIssue(doc: Document): LimitIssue | null {
  const anchors = new Map<string, Node>();
  const sizes = new Map<Node, number>();
  let total = 0;

  // Depth-first in document order, so an anchor is seen before any alias that may use it.
  const measure = (node: unknown, ancestors: Node[], path: (string | number)[]): number | LimitIssue => {
    if (isAlias(node)) {
      const at = { offset: node.range?.[0] ?? 0, path };
      const target = anchors.get(node.source);
      if (!target) {
        return {
          ...at,
          message: `alias *${node.source} refers to no anchor before it (&${node.source} must come first)`,
        };
      }
      if (ancestors.includes(target))
        return { ...at, message: `alias *${node.source} refers to a value that contains it` };
      const size = sizes.get(target) ?? 1;
      total += size;
      if (total > MAX_EXPANDED_VALUES) {
        return {
          ...at,
          message: `aliases expand this file to more than ${MAX_EXPANDED_VALUES} values (aliases of aliases, a "billion laughs"?)`,
        };
      }
      return size;
    }
    if (!isCollection(node) && !isScalar(node)) return 0;
    if (node.anchor) anchors.set(node.anchor, node);
    total += 1;
    let size = 1;
    if (isCollection(node)) {
      for (const [index, item] of node.items.entries()) {
        const key = isPair(item) ? (isScalar(item.key) ? String(item.key.value) : index) : index;
        for (const part of isPair(item) ? [item.key, item.value] : [item]) {
          const measured = measure(part, [...ancestors, node], [...path, key]);
          if (typeof measured !== 'number') return measured;
          size += measured;
        }
      }
    }
    sizes.set(node, size);
    return size;
  };

  const result = measure(doc.contents, [], []);
  return typeof result === 'number' ? null : result;
}
