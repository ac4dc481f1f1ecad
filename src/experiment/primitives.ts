/** The small shapes every part of the experiment schema uses. */
import { z } from 'zod';
import { DURATION_PATTERN } from './duration';
import { WAIT_LIMIT_MESSAGE, withinWaitLimit } from './limits';

export const Name = z
  .string()
  .regex(
    /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
    'lowercase letters, digits and dashes, at most 63 characters',
  )
  .describe('A name in lowercase kebab case');

/** A duration as written, of any length: a phase, whose limit depends on timeScale. */
export const DurationText = z
  .string()
  .regex(DURATION_PATTERN, 'a duration like 250ms, 30s, 5m, 1h or 2h52m')
  .describe('A duration: numbers with units (h, m, s, ms), largest first: 250ms, 30s, 2h52m');

export const Duration = DurationText.refine(withinWaitLimit, WAIT_LIMIT_MESSAGE).describe(
  'A duration: numbers with units (h, m, s, ms), largest first: 250ms, 30s, 2h52m; at most 168h',
);

/**
 * A Toxiproxy proxy's name, as Toxiproxy v2.12.0 accepts it: its API creates a proxy with any
 * non-empty name (api.go, ProxyCreate), and addresses it as `/proxies/{proxy}` through gorilla/mux,
 * which decodes the path and cleans it first, so a name with a `/`, or `.` or `..`, can be created
 * but never read, changed or deleted again. Control characters are refused too: gameday prints
 * proxy names in plans, status and reports, one per line. Toxiproxy's own README uses
 * `shopify_test_redis_master`.
 */
export const ProxyName = z
  .string()
  .min(1, 'a proxy name cannot be empty')
  .refine((name) => !name.includes('/'), "Toxiproxy's API cannot address a proxy whose name has a '/'")
  .refine((name) => name !== '.' && name !== '..', "Toxiproxy's API cannot address a proxy named '.' or '..'")
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  .refine((name) => !/[\u0000-\u001f\u007f-\u009f]/.test(name), 'a proxy name cannot hold control characters')
  .describe('A Toxiproxy proxy name: anything Toxiproxy can address, e.g. shopify_test_redis_master');

export const Fraction = z.number().min(0).max(1);
export const PositiveInt = z.number().int().min(1);
export const HttpUrl = z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' });
