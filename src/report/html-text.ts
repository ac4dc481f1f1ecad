/**
 * HTML from template literals in which every interpolated value is escaped unless it is already
 * `Html`. Journals carry text from outside (probe errors, notes, abort reasons): escaping by default
 * means a forgotten call cannot let `<script>` through.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

type Part = Html | string | number | null | undefined | false | readonly Part[];

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof Html) return part.text;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(String(part));
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  return new Html(
    strings.reduce((out, literal, i) => out + literal + (i < values.length ? render(values[i]) : ''), ''),
  );
}

/**
 * A whole report page. Its Content-Security-Policy allows inline style and nothing else: no
 * script, font or request, so the file reads the same offline, attached to a CI run or mailed.
 */
export function selfContainedPage(title: string, style: string, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${title}</title>
<style>${new Html(style)}</style>
</head>
${body}
</html>
`.text;
}
