/**
 * The FIS template library's templates (test/fixtures/fis-templates), with their placeholders
 * filled in the way the library's README asks a user to: their account, region, role and
 * document names, and ids of their own resources.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/tools';

export const CORPUS_DIR = join(PROJECT_ROOT, 'test/fixtures/fis-templates');
export const CORPUS_COMMIT = '4119aa77bc9de1727f419d5f468a4d6f2cb11fc3';
export const ACCOUNT = '123456789012';

const PLACEHOLDERS: [RegExp, string][] = [
  [/<YOUR AWS ACCOUNT>|<YOUR ACCOUNT>|<ACCOUNT>|<YOUR-ACCOUNT-ID>|<YOUR_AWS_ACCOUNT>/g, ACCOUNT],
  [/<YOUR REGION>|<REGION>|\{\{ aws:region \}\}/g, 'us-east-1'],
  [/<YOUR ROLE NAME>|<YOUR_ROLE_NAME>|<YOUR FIS IAM ROLE NAME>|<FIS-ROLE>/g, 'fis-experiments'],
  [/<YOUR SSM AUTOMATION IAM ROLE NAME>|<YOUR SSM ROLE NAME>|<SSM-AUTOMATION-ROLE>/g, 'fis-ssm-automation'],
  [/<YOUR AUTOMATION DOCUMENT NAME>/g, 'orders-impairment'],
  [/<GLOBAL-CLUSTER-ID>/g, 'orders-global'],
  [/<YOUR AVAILABILITY ZONE>|<YOUR TARGET AZ>/g, 'us-east-1a'],
  [/<YOUR DATABASE ENDPOINT>/g, 'orders.cluster-c0ffee.us-east-1.rds.amazonaws.com'],
  [/<YOUR DATABASE SECURITY GROUP ID>/g, 'sg-0123456789abcdef0'],
  [/<YOUR ECS CLUSTER>/g, 'orders'],
  [/<YOUR ECS SERVICE>/g, 'orders-api'],
  [/<YOUR SECRET ARN>/g, `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:orders-db`],
  [/<YOUR SUBNET ID>/g, 'subnet-0123456789abcdef0'],
  [/<YOUR TABLE NAME>/g, 'orders'],
  [/<YOUR VPC ID>/g, 'vpc-0123456789abcdef0'],
];

/** Every template file of the corpus, by its path in the library. */
export function corpusTemplates(): string[] {
  return readdirSync(CORPUS_DIR, { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith('.json') && /template/.test(path))
    .sort();
}

/** A corpus file as a user holds it once the placeholders are filled. */
export function filledTemplate(path: string): Record<string, unknown> {
  let text = readFileSync(join(CORPUS_DIR, path), 'utf8');
  for (const [placeholder, value] of PLACEHOLDERS) text = text.replace(placeholder, value);
  const left = /<[A-Z][A-Z0-9 _-]*>/.exec(text);
  if (left) throw new Error(`${path}: placeholder ${left[0]} has no value in test/fis-corpus.ts`);
  return JSON.parse(text);
}
