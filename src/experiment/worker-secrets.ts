/**
 * `${GAMEDAY_SECRET_NAME}` in a header value or a webhook URL is filled in on the worker, from its
 * environment, when the request is made: the secret is in no file, history, journal or report.
 * Only variables named GAMEDAY_SECRET_* can be read, so an experiment file cannot send the
 * worker's own credentials (AWS keys, a Temporal API key) to a host of its choosing.
 */
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

/** A placeholder in place of each variable: the text's shape, for validating a URL. */
export function withoutSecrets(text: string): string {
  return text.replace(VARIABLE, 'x');
}

export const SECRET_MESSAGE = `only \${${SECRET_PREFIX}NAME} variables can be read from the worker environment`;
