/** An HTTP request as the experiment file writes it: the http probe's and a rollback step's. */
import { z } from 'zod';
import { Duration, HttpUrl } from './primitives';
import { forbiddenVariables, SECRET_MESSAGE } from './worker-secrets';

export const HttpRequest = z
  .strictObject({
    url: HttpUrl,
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
    timeout: Duration.default('2s').describe('Per-request timeout; a request that takes longer is an error'),
    headers: z
      .record(
        z.string(),
        z.string().refine((value) => forbiddenVariables(value).length === 0, SECRET_MESSAGE),
      )
      .optional()
      .describe(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: this documents the syntax
        'Request headers. ${GAMEDAY_SECRET_NAME} in a value is read from the worker environment; values never reach journals',
      ),
    body: z.string().optional(),
  })
  .describe('An HTTP request');

export type HttpRequest = z.infer<typeof HttpRequest>;
