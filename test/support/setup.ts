// Runs before every test file (jest setupFilesAfterEnv): warnings a test provokes are asserted, not printed.
import { captureWarnings, failOnUntakenWarnings } from './warnings';
import { _checkSharedFindings } from '../../src/validation/shared-findings';

captureWarnings();
// Every job any test validates also runs its rules unshared: findings shared between jobs must equal them.
_checkSharedFindings(true);

// Warnings written while a file collects its tests or in a beforeAll are charged to the next test.
beforeEach(() => failOnUntakenWarnings('setup before this test (describe body or beforeAll)'));
afterEach(() => failOnUntakenWarnings('this test'));
afterAll(() => failOnUntakenWarnings('an afterAll of this file'));
