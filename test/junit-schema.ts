/**
 * Validates JUnit XML against the schemas CI tools read it with: Jenkins xunit's junit-10.xsd
 * (MIT, github.com/jenkinsci/xunit-plugin) and Apache Ant's JUnit.xsd (Apache-2.0,
 * github.com/windyroad/JUnit-Schema), kept verbatim under test/fixtures/junit/.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { validateXML } from 'xmllint-wasm';
import { PROJECT_ROOT } from '../src/tools';

export const JUNIT_SCHEMAS = ['jenkins-junit-10.xsd', 'ant-junit.xsd'];

export async function junitSchemaErrors(xml: string, schema: string): Promise<string[]> {
  const contents = await readFile(join(PROJECT_ROOT, 'test/fixtures/junit', schema), 'utf8');
  const result = await validateXML({
    xml: [{ fileName: 'junit.xml', contents: xml }],
    schema: [{ fileName: schema, contents }],
  });
  return result.errors.map((error) => error.rawMessage);
}

export async function expectValidJunit(xml: string): Promise<void> {
  for (const schema of JUNIT_SCHEMAS) expect(await junitSchemaErrors(xml, schema), schema).toEqual([]);
}
