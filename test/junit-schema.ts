/**
 * Validates JUnit XML against the schemas CI tools read it with: Jenkins xunit's junit-10.xsd
 * (MIT, github.com/jenkinsci/xunit-plugin) and Apache Ant's JUnit.xsd (Apache-2.0,
 * github.com/windyroad/JUnit-Schema), kept verbatim under test/fixtures/junit/.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
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

/** What each schema says about the XML, by schema file name: valid is an empty list for each. */
export async function junitErrors(xml: string): Promise<Record<string, string[]>> {
  const errors = await Promise.all(JUNIT_SCHEMAS.map((schema) => junitSchemaErrors(xml, schema)));
  return Object.fromEntries(JUNIT_SCHEMAS.map((schema, i) => [schema, errors[i] ?? []]));
}

/** junitErrors of valid JUnit: what a test expects. */
export const NO_JUNIT_ERRORS: Record<string, string[]> = Object.fromEntries(
  JUNIT_SCHEMAS.map((schema) => [schema, []]),
);
