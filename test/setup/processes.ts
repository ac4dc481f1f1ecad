/**
 * Every process a test starts ends when the test ends, whatever happened. Each test gets a mark of
 * its own in the environment its processes inherit (test/processes.ts); when the test has finished
 * and its own cleanup has run, anything still carrying the mark is killed by pid, and the test
 * fails saying what it left. Processes started in beforeAll carry the file's mark and go after
 * afterAll the same way.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, onTestFinished } from 'vitest';
import { describeProcesses, endProcesses, OWNER_MARK, processesMarked } from '../processes';

const fileOwner = `file-${randomBytes(6).toString('hex')}`;

async function endWhatIsLeft(owner: string, who: string): Promise<void> {
  const mark = `${OWNER_MARK}=${owner}`;
  const killed = await endProcesses(processesMarked(OWNER_MARK, owner), mark);
  if (killed.length > 0) {
    throw new Error(
      `${who} left ${killed.length} process(es) running after its own cleanup; killed them by pid: ${describeProcesses(killed)}`,
    );
  }
}

beforeAll(() => {
  process.env[OWNER_MARK] = fileOwner;
});

beforeEach((context) => {
  const owner = `test-${randomBytes(6).toString('hex')}`;
  process.env[OWNER_MARK] = owner;
  // Registered before anything the test registers, so it runs after all of it.
  onTestFinished(async () => {
    process.env[OWNER_MARK] = fileOwner;
    await endWhatIsLeft(owner, `the test "${context.task.name}"`);
  });
});

afterAll(async () => {
  await endWhatIsLeft(fileOwner, 'this file (beforeAll/afterAll)');
});
