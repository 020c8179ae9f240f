// The `ferry` CLI as a library: `run(argv, io)` (what the bin calls) and the pieces other tools may reuse.
export { run, commands } from './cli.js';
export type { CliIo } from './context.js';
export {
  createClient,
  type AppDiff,
  type AppResource,
  type DeleteOptions,
  type FerryClient,
  type FerryClientOptions,
  type ResourceDiff,
  type RollbackOptions,
  type SyncOptions,
  type SyncResource,
} from './client.js';
export { LoginSource, loginFilePath, resolveLogin, writeLoginFile, type LoginConfig, type LoginOptions } from './config.js';
export { ApiError, CliError, ExitCode, ExitCodeError, UsageError } from './errors.js';
export { locate, parseManifestText, pathSegments, readManifestFile, validateManifests, type ManifestDocument } from './manifests.js';
