export { REPO, FACES, face, pairs } from '../support/faces.js';
export {
  tempDir,
  ENGINE,
  createDatabase,
  testDatabaseUrl,
  engineOptions,
  engineEnv,
  openTestStore,
} from '../support/database.js';
