import { ErrorCode } from '@ferry/contracts';
import type { CommandSpec } from '../args.js';
import { ApiError, CliError, UsageError, formatError } from '../errors.js';
import { formatProblem, readManifestFile, validateManifests, type ManifestDocument } from '../manifests.js';
import { connect, emit } from './shared.js';
import type { AppResource } from '../client.js';

/**
 * `ferry app create -f <file>… [--upsert]` — validates every document locally (nothing is sent
 * when one is invalid), then POSTs each; a server-side rejection is reported with its file and line.
 */
export const appCreate: CommandSpec = {
  path: ['app', 'create'],
  args: [],
  summary: 'Create applications from Argo CD Application manifests (YAML or JSON)',
  help: [
    'Each file may hold several documents; each must be an Application (argoproj.io/v1alpha1).',
    'Every document is validated before anything is sent: a problem is printed as',
    '  <file>:<line>: <field path> <problem>',
    'Example: ferry app create -f examples/apps/skynet-docs.yaml --upsert',
  ].join('\n'),
  flags: {
    file: { type: 'string', short: 'f', multiple: true, value: '<file>', description: 'manifest file (YAML or JSON)' },
    upsert: { type: 'boolean', description: 'update an app that already exists instead of failing' },
  },
  remote: true,
  output: true,
  async run(ctx, input) {
    const files = (input.values['file'] as string[] | undefined) ?? [];
    if (files.length === 0) throw new UsageError('give at least one manifest with -f <file>', 'app create');
    const documents: ManifestDocument[] = [];
    for (const file of files) documents.push(...(await readManifestFile(file)));
    if (documents.length === 0) throw new CliError(ErrorCode.CliFileInvalid, `no Application found in ${files.join(', ')}`);
    const { valid, problems } = validateManifests(documents);
    if (problems.length > 0) {
      throw new CliError(
        ErrorCode.AppInvalid,
        `${problems.length} problem${problems.length === 1 ? '' : 's'} in ${files.join(', ')}; nothing was sent`,
        {
          details: problems.map(formatProblem),
        },
      );
    }
    const client = await connect(ctx, input);
    const upsert = input.values['upsert'] === true;
    const stored: AppResource[] = [];
    let failed = 0;
    for (const doc of valid) {
      const name = doc.application.metadata.name;
      try {
        const { created, application } = await client.createApplication(doc.value, upsert);
        stored.push(application);
        if (input.output === 'text') ctx.print(`application '${name}' ${created ? 'created' : 'updated'}`);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        failed++;
        const located = new ApiError(
          error.code,
          error.status,
          `${doc.file}:${doc.line}: application '${name}': ${error.message}`,
          error.details.map((d) => {
            if (!d.path) return d;
            const line = d.line ?? doc.locate(d.path);
            return { message: formatProblem({ file: doc.file, path: d.path, message: d.message, ...(line ? { line } : {}) }) };
          }),
        );
        ctx.stderr(`${formatError(located).join('\n')}\n`);
      }
    }
    if (input.output !== 'text') emit(ctx, input, stored, () => '');
    return failed > 0 ? 1 : 0;
  },
};
