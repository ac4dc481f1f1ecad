import { afterEach, describe, expect, it } from 'vitest';
import { sendNotification } from '../../activities/notify';
import { ExperimentError, formatIssue, parseExperiment } from '../../src/experiment/load';
import { planRun } from '../../src/experiment/plan';
import { fillInSecrets, withoutSecretValues } from '../../src/experiment/worker-secrets';
import { sampleHttp } from '../../src/providers/probes/http';

const base = `version: 1
name: unit
description: d
target: { environment: local }
steadyState:
  - name: ok
    http: { url: http://127.0.0.1:9/ }
`;

function problems(source: string): string[] {
  try {
    parseExperiment(source, 'e.yaml');
  } catch (error) {
    if (error instanceof ExperimentError) return error.issues.map(formatIssue);
    throw error;
  }
  return [];
}

const plan = (source: string) =>
  planRun(parseExperiment(source, 'e.yaml'), {
    runId: 'r1',
    file: 'e.yaml',
    sha256: '0',
    outDir: '/tmp/r1',
    env: {},
  });

describe('approval gates in the experiment file', () => {
  it('default to a 15 minute wait that aborts, not scaled by timeScale', () => {
    const planned = plan(
      `${base}timeScale: 0.01\nphases:\n  - { name: p, duration: 10m, gate: { approval: required } }\n`,
    );
    expect(planned.phases[0]?.gate).toEqual({ timeoutMs: 15 * 60_000, onTimeout: 'abort' });
    expect(planned.phases[0]?.durationMs).toBe(6_000);
  });

  it('refuse anything but required approval and abort on timeout, saying where', () => {
    expect(problems(`${base}phases:\n  - { name: p, duration: 1s, gate: { approval: optional } }\n`)).toEqual(
      [
        expect.stringMatching(
          /^e\.yaml:9:48 +phases\[0\]\.gate\.approval +expected "required", got "optional"$/,
        ),
      ],
    );
    expect(
      problems(
        `${base}phases:\n  - { name: p, duration: 1s, gate: { approval: required, onTimeout: proceed } }\n`,
      ),
    ).toHaveLength(1);
  });
});

describe('webhooks in the experiment file', () => {
  it('take ${GAMEDAY_SECRET_*} for secrets, default to JSON and every event', () => {
    const planned = plan(
      `${base}phases:\n  - { name: p, duration: 1s }\nnotify:\n  - url: https://hooks.example.com/services/\${GAMEDAY_SECRET_SLACK}\n    format: slack\n  - url: http://127.0.0.1:9/hook\n`,
    );
    expect(planned.notify).toEqual([
      {
        url: 'https://hooks.example.com/services/${GAMEDAY_SECRET_SLACK}',
        format: 'slack',
        events: expect.arrayContaining(['finished', 'rollback-failed']),
      },
      { url: 'http://127.0.0.1:9/hook', format: 'json', events: planned.notify?.[0]?.events },
    ]);
    expect(planned.notify?.[0]?.events).toHaveLength(6);
  });

  it('refuse a URL that is not http(s) or an unknown event, saying where', () => {
    expect(
      problems(`${base}phases:\n  - { name: p, duration: 1s }\nnotify:\n  - url: ftp://example.com/x\n`),
    ).toEqual([expect.stringMatching(/^e\.yaml:11:10 +notify\[0\]\.url +an http\(s\) URL/)]);
    expect(
      problems(
        `${base}phases:\n  - { name: p, duration: 1s }\nnotify:\n  - { url: "http://x/", events: [started] }\n`,
      ),
    ).toEqual([expect.stringMatching(/notify\[0\]\.events\[0\]/)]);
  });
});

describe('secrets read on the worker', () => {
  it('are only GAMEDAY_SECRET_* variables: a file cannot send the worker its own credentials', () => {
    expect(
      problems(
        `${base}phases:\n  - { name: p, duration: 1s }\nnotify:\n  - url: "https://x.example/\${AWS_SECRET_ACCESS_KEY}"\n`,
      ),
    ).toEqual([expect.stringMatching(/notify\[0\]\.url +only \$\{GAMEDAY_SECRET_NAME\} variables/)]);
    const header = base.replace(
      'http: { url: http://127.0.0.1:9/ }',
      'http: { url: http://127.0.0.1:9/, headers: { Authorization: "Bearer ${TEMPORAL_API_KEY}" } }',
    );
    expect(problems(`${header}phases:\n  - { name: p, duration: 1s }\n`)).toEqual([
      expect.stringMatching(/steadyState\[0\]\.http\.headers\.Authorization +only \$\{GAMEDAY_SECRET_NAME\}/),
    ]);
    expect(() => fillInSecrets('https://x/${HOME}', 'webhook 1', { HOME: '/root' })).toThrow(
      'webhook 1 names ${HOME}: only GAMEDAY_SECRET_* variables can be read',
    );
    expect(fillInSecrets('https://x/${GAMEDAY_SECRET_A}', 'webhook 1', { GAMEDAY_SECRET_A: 's3' })).toBe(
      'https://x/s3',
    );
  });

  it('refuse user:password@ in a webhook URL, which fetch would not send anyway', () => {
    expect(
      problems(
        `${base}phases:\n  - { name: p, duration: 1s }\nnotify:\n  - url: "https://bot:\${GAMEDAY_SECRET_PW}@hooks.example/x"\n`,
      ),
    ).toEqual([expect.stringMatching(/notify\[0\]\.url +no user:password@ in a webhook URL/)]);
  });
});

describe('errors from requests that carry a secret', () => {
  const secret = 'hunter2-\r\n-tail';
  process.env.GAMEDAY_SECRET_UNIT = secret;
  afterEach(() => {
    process.env.GAMEDAY_SECRET_UNIT = secret;
  });

  it('name the header, not the value fetch would refuse and quote', async () => {
    const sample = await sampleHttp(
      {
        url: 'http://127.0.0.1:9/',
        method: 'GET',
        timeoutMs: 1_000,
        headers: { Authorization: 'Bearer ${GAMEDAY_SECRET_UNIT}' },
      },
      null,
    );
    expect(sample.ok).toBe(false);
    expect(sample.error).toBe(
      'header Authorization (with ${GAMEDAY_SECRET_UNIT} filled in) is not a valid HTTP header value: ' +
        'it may hold only Latin-1 characters, and no line break or NUL',
    );
  });

  it('name the webhook, not the URL fetch would refuse and quote', async () => {
    process.env.GAMEDAY_SECRET_UNIT = 'hunter2';
    const sending = sendNotification({
      webhook: { url: 'http://bot:${GAMEDAY_SECRET_UNIT}@127.0.0.1:9/hook', format: 'json', events: [] },
      index: 0,
      notification: { event: 'finished', runId: 'r1', experiment: 'e', at: 0, summary: 's' },
    });
    await expect(sending).rejects.toThrow(
      'webhook 1 (127.0.0.1:9): its URL (with ${GAMEDAY_SECRET_UNIT} filled in) holds a user:password@, which is not sent',
    );
  });

  it('are blanked however a library spells the secret back: encoded, lower-cased, punycoded', () => {
    const env = { GAMEDAY_SECRET_HOST: 'Hooks-Ünïcode.Example' };
    const message =
      'getaddrinfo EAI_FAIL xn--hooks-ncode-jdb1o.example; Host: hooks-ünïcode.example; Hooks-%C3%9Cn%C3%AFcode.Example';
    expect(withoutSecretValues(message, ['https://${GAMEDAY_SECRET_HOST}/x'], env)).toBe(
      'getaddrinfo EAI_FAIL <secret>; Host: <secret>; <secret>',
    );
  });
});
