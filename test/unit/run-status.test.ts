/** `gameday status` asks the run's status query by name (src/temporal/run-status.ts says why). */
import { expect, it } from 'vitest';
import { STATUS_QUERY } from '../../src/temporal/run-status';
import { statusQuery } from '../../workflows/messages';

it('asks the status query by the name the workflow answers to', () => {
  expect(STATUS_QUERY).toBe(statusQuery.name);
});
