/**
 * Real FIS templates as their authors wrote them: every template of aws-samples/fis-template-library
 * (test/fixtures/fis-templates, commit in its README), placeholders filled as a user would, pasted
 * into an `awsFis` fault. Each is accepted, or refused for a reason FIS would also give, named here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExperimentError, parseExperiment } from '../../src/experiment/load';
import { CORPUS_COMMIT, CORPUS_DIR, corpusTemplates, filledTemplate } from '../fis-corpus';

/**
 * The templates that are not accepted as they are, and why. Anything not listed must be accepted.
 * `irreversible`: gameday's own confirmation, which a user adds to the fault (FIS has none); the
 * template must be refused without it and accepted with it.
 */
const EXPECTED: Record<string, { refused: string[]; because: string } | { irreversible: string }> = {
  'mysql-rds-loadtest-failover/mysql-rds-loadtest-failover-template.json': {
    refused: ['actions.StopLoadTest.startAfterDelay  unknown key "startAfterDelay"'],
    because:
      "CreateExperimentTemplateActionInput has no startAfterDelay: the AWS CLI refuses it ('Unknown parameter'), as the FIS API reference and the SDK define the action",
  },
  'ec2-instances-terminate/ec2-instances-terminate-template.json': {
    irreversible: 'aws:ec2:terminate-instances cannot be undone (it terminates instances)',
  },
  'ec2-spot-interruption/ec2-spot-interruption-template.json': {
    irreversible:
      'aws:ec2:send-spot-instance-interruptions cannot be undone (it interrupts Spot Instances, which EC2 then terminates or stops)',
  },
};

function problems(template: object, irreversible = false): string[] {
  const source = JSON.stringify({
    version: 1,
    name: 'corpus',
    description: 'A template from the FIS template library.',
    target: { environment: 'staging' },
    settings: { aws: { region: 'us-east-1' } },
    steadyState: [{ name: 'ok', http: { url: 'http://127.0.0.1:9/' } }],
    phases: [{ name: 'p', duration: '10m', faults: [{ name: 'f', awsFis: { template, irreversible } }] }],
  });
  try {
    parseExperiment(source, 'corpus.json');
  } catch (error) {
    if (!(error instanceof ExperimentError)) throw error;
    return error.issues.map(
      (i) => `${i.path.replace('phases[0].faults[0].awsFis.template.', '')}  ${i.message}`,
    );
  }
  return [];
}

describe('the FIS template library', () => {
  const templates = corpusTemplates();

  it(`is the library's every template at commit ${CORPUS_COMMIT.slice(0, 8)}`, () => {
    expect(readFileSync(join(CORPUS_DIR, 'README.md'), 'utf8')).toContain(CORPUS_COMMIT);
    expect(templates).toHaveLength(23);
    for (const path of Object.keys(EXPECTED)) expect(templates).toContain(path);
  });

  it.each(templates)('%s is accepted, or refused for a reason FIS gives too', (path) => {
    const template = filledTemplate(path);
    const expected = EXPECTED[path];
    if (!expected) {
      expect(problems(template)).toEqual([]);
    } else if ('refused' in expected) {
      expect(problems(template), expected.because).toEqual(expected.refused);
    } else {
      expect(problems(template).join('\n')).toContain(expected.irreversible);
      expect(problems(template, true)).toEqual([]);
    }
  });
});
