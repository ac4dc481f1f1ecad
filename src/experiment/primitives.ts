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

export const Fraction = z.number().min(0).max(1);
export const PositiveInt = z.number().int().min(1);
export const HttpUrl = z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' });
