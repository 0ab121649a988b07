// Runs before every test file (jest setupFilesAfterEnv): warnings a test provokes are asserted, not printed.
import { captureWarnings, failOnUntakenWarnings } from './warnings';

captureWarnings();

// Warnings written while a file collects its tests or in a beforeAll are charged to the next test.
beforeEach(() => failOnUntakenWarnings('setup before this test (describe body or beforeAll)'));
afterEach(() => failOnUntakenWarnings('this test'));
afterAll(() => failOnUntakenWarnings('an afterAll of this file'));
