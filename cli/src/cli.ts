/** The command dispatcher: `run(argv, io)` → exit code. main.ts is the process around it. */
import { commandHelp, groupHelp, parseCommandLine, wantsHelp, type CommandSpec } from './args.js';
import { appCreate } from './commands/app-create.js';
import { appDelete } from './commands/app-delete.js';
import { appDiff } from './commands/app-diff.js';
import { appGet } from './commands/app-get.js';
import { appHistory } from './commands/app-history.js';
import { appList } from './commands/app-list.js';
import { appRefresh } from './commands/app-refresh.js';
import { appRollback } from './commands/app-rollback.js';
import { appSync } from './commands/app-sync.js';
import { appWait } from './commands/app-wait.js';
import { health } from './commands/health.js';
import { login } from './commands/login.js';
import { version } from './commands/version.js';
import { createContext, type CliIo } from './context.js';
import { ExitCode, UsageError, exitCodeOf, formatError } from './errors.js';

/** Every command, in help order. */
export const commands: readonly CommandSpec[] = [
  appCreate,
  appList,
  appGet,
  appDiff,
  appSync,
  appWait,
  appHistory,
  appRollback,
  appRefresh,
  appDelete,
  health,
  login,
  version,
];

const groups = new Set(commands.filter((c) => c.path.length > 1).map((c) => c.path[0]));

/** Runs one command line (without `node` and the script) and returns the exit code; never throws. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const ctx = createContext(io);
  let spec: CommandSpec | undefined;
  let rest: readonly string[] = [];
  try {
    const [first, second] = argv;
    if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
      (first === undefined ? io.stderr : io.stdout)(groupHelp(commands));
      return first === undefined ? ExitCode.Usage : ExitCode.Ok;
    }
    if (first === '--version' || first === '-v') {
      ctx.print(`ferry: ${(await import('./commands/version.js')).clientVersion()}`);
      return ExitCode.Ok;
    }
    if (groups.has(first)) {
      if (second === undefined || second === '-h' || second === '--help') {
        (second === undefined ? io.stderr : io.stdout)(groupHelp(commands, first));
        return second === undefined ? ExitCode.Usage : ExitCode.Ok;
      }
      spec = commands.find((c) => c.path[0] === first && c.path[1] === second);
      if (!spec) throw new UsageError(`unknown command '${first} ${second}'`, first);
      rest = argv.slice(2);
    } else {
      spec = commands.find((c) => c.path.length === 1 && c.path[0] === first);
      if (!spec) throw new UsageError(`unknown command '${first}'`);
      rest = argv.slice(1);
    }
    if (wantsHelp(rest)) {
      io.stdout(commandHelp(spec));
      return ExitCode.Ok;
    }
    const input = parseCommandLine(spec, rest);
    return await spec.run(ctx, input);
  } catch (error) {
    const secrets = [tokenIn(rest), io.env['FERRY_TOKEN']].filter((s): s is string => typeof s === 'string' && s.length >= 4);
    let text = formatError(error).join('\n');
    for (const secret of secrets) text = text.split(secret).join('***');
    io.stderr(`${text}\n`);
    return exitCodeOf(error);
  }
}

/** The value of `--token` in the arguments, so that no error message can echo it. */
function tokenIn(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--token') return args[i + 1];
    if (arg.startsWith('--token=')) return arg.slice('--token='.length);
  }
  return undefined;
}
