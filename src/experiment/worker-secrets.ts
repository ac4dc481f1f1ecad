/**
 * `${GAMEDAY_SECRET_NAME}` in a header value or a webhook URL is filled in on the worker, from its
 * environment, when the request is made: the secret is in no file, history, journal or report.
 * Only variables named GAMEDAY_SECRET_* can be read, so an experiment file cannot send the
 * worker's own credentials (AWS keys, a Temporal API key) to a host of its choosing.
 */
import { domainToASCII } from 'node:url';

export const SECRET_PREFIX = 'GAMEDAY_SECRET_';
const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Variables the text names that an experiment may not read. */
export function forbiddenVariables(text: string): string[] {
  return [...text.matchAll(VARIABLE)]
    .map((m) => m[1] as string)
    .filter((name) => !name.startsWith(SECRET_PREFIX));
}

/** The text with every `${GAMEDAY_SECRET_*}` filled in; `what` names the field in the error. */
export function fillInSecrets(text: string, what: string, env: NodeJS.ProcessEnv = process.env): string {
  return text.replace(VARIABLE, (_, name: string) => {
    if (!name.startsWith(SECRET_PREFIX))
      throw new Error(`${what} names \${${name}}: only ${SECRET_PREFIX}* variables can be read`);
    const value = env[name];
    if (value === undefined)
      throw new Error(`${what} needs the environment variable ${name}, which is not set`);
    return value;
  });
}

/** ` (with ${GAMEDAY_SECRET_A} filled in)` for a text that names secrets, else '': how errors name them. */
export function filledIn(text: string): string {
  const names = [...new Set([...text.matchAll(VARIABLE)].map((m) => `\${${m[1]}}`))];
  return names.length > 0 ? ` (with ${names.join(', ')} filled in)` : '';
}

/**
 * The message with every secret the texts name blanked out, as written, URL-encoded, or as a host
 * name once a URL parser has lower-cased or punycoded it: a library's error can quote the request it
 * refused (a URL, a header value), and that text reaches the journal.
 */
export function withoutSecretValues(
  message: string,
  texts: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): string {
  const values = texts
    .flatMap((text) => [...text.matchAll(VARIABLE)].map((m) => env[m[1] as string]))
    .filter((value): value is string => typeof value === 'string' && value.length > 0)
    .flatMap((value) => [value, encodeURIComponent(value), encodeURI(value), domainToASCII(value)])
    .filter((value) => value.length > 0)
    // Longest first, so a secret that contains another is blanked whole.
    .sort((a, b) => b.length - a.length);
  return values.reduce(
    (text, value) => text.replace(new RegExp(value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), '<secret>'),
    message,
  );
}

/** A placeholder in place of each variable: the text's shape, for validating a URL. */
export function withoutSecrets(text: string): string {
  return text.replace(VARIABLE, 'x');
}

export const SECRET_MESSAGE = `only \${${SECRET_PREFIX}NAME} variables can be read from the worker environment`;
