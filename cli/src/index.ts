// The `ferry` CLI as a library: `run(argv, io)` (what the bin calls) and the pieces other tools may reuse.
export { run, commands } from './cli.js';
export type { CliIo } from './context.js';
export { createClient, type AppResource, type FerryClient, type FerryClientOptions } from './client.js';
export { LoginSource, loginFilePath, resolveLogin, writeLoginFile, type LoginConfig, type LoginOptions } from './config.js';
export { ApiError, CliError, ExitCode, UsageError } from './errors.js';
export { locate, parseManifestText, pathSegments, readManifestFile, validateManifests, type ManifestDocument } from './manifests.js';
