/**
 * A secret filled in on the worker that makes a request invalid: what fetch says about it quotes
 * the secret's characters or their positions. gameday names the header or the webhook and the
 * variable instead, and nothing of the secret reaches the journal, the reports or the terminal.
 * Real requests, from `gameday run`, against local servers.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Journal } from '../../src/report/journal';
import {
  cliEnv,
  experimentFor,
  gameday,
  scratchDir,
  startTarget,
  uniqueName,
  writeExperiment,
} from '../helpers';
import { startReceiver } from '../webhook-receiver';

async function everythingWritten(out: string, runId: string, terminal: string) {
  const dir = join(out, runId);
  const files = await Promise.all(
    ['journal.json', 'report.html', 'report.md', 'junit.xml'].map((name) =>
      readFile(join(dir, name), 'utf8'),
    ),
  );
  return {
    journal: JSON.parse(files[0] as string) as Journal,
    text: [...files, terminal].join('\n'),
  };
}

describe('a secret that makes a request invalid', () => {
  it('in a header: the error names the header and the variable, never a character or its position', async () => {
    const secret = 'tok-€-zq9x';
    const target = await startTarget('auth', { requireAuthorization: `Bearer ${secret}` });
    const experiment = experimentFor(target);
    const probe = experiment.steadyState[0];
    if (probe?.http) probe.http.headers = { Authorization: 'Bearer ${GAMEDAY_SECRET_TOKEN}' };
    const file = await writeExperiment(experiment);
    const out = await scratchDir('out');
    const runId = uniqueName('euro');
    const { code, stdout, stderr } = await gameday(['run', '--local', file, '--out', out, '--id', runId], {
      ...cliEnv(uniqueName('q')),
      GAMEDAY_SECRET_TOKEN: secret,
    }).done;

    expect(code).toBe(4);
    const { journal, text } = await everythingWritten(out, runId, stdout + stderr);
    expect(journal.steadyStateBefore?.probes[0]?.summary.topErrors).toEqual([
      {
        message:
          'header Authorization (with ${GAMEDAY_SECRET_TOKEN} filled in) is not a valid HTTP header value: ' +
          'it may hold only Latin-1 characters, and no line break or NUL',
        count: 5,
      },
    ]);
    for (const leak of ['€', 'index 1', 'zq9x']) expect(text).not.toContain(leak);
    // The character's code, as Node's own error quotes it; not the same digits inside a timestamp.
    expect(text).not.toMatch(/(?<!\d)8364(?!\d)/);
  });

  it('in a webhook URL: the error names the webhook and the variable, never the URL as parsed', async () => {
    const receiver = await startReceiver();
    const target = await startTarget();
    // A secret that turns what was written as the host into user:password@host.
    const secret = `bot:hunter2@secret@${receiver.url.replace('http://', '')}`;
    const file = await writeExperiment(
      experimentFor(target, { notify: [{ url: 'http://${GAMEDAY_SECRET_HOOK}/hook', format: 'json' }] }),
    );
    const out = await scratchDir('out');
    const runId = uniqueName('hook');
    const { code, stdout, stderr } = await gameday(['run', '--local', file, '--out', out, '--id', runId], {
      ...cliEnv(uniqueName('q')),
      GAMEDAY_SECRET_HOOK: secret,
    }).done;

    expect(code).toBe(0);
    const { journal, text } = await everythingWritten(out, runId, stdout + stderr);
    const failures = journal.events.filter((event) => event.type === 'notify.failed');
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures)
      expect(failure.message).toMatch(
        /to webhook 1: webhook 1 \(x\): its URL \(with \$\{GAMEDAY_SECRET_HOOK\} filled in\) holds a user:password@, which is not sent$/,
      );
    for (const leak of ['hunter2', 'bot:', '%40', secret]) expect(text).not.toContain(leak);
    expect(receiver.received).toEqual([]);
  });
});
