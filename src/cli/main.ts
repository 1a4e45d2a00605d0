#!/usr/bin/env node
/**
 * `bitnet <command> [options]` — a dispatch table. Each command has an options table,
 * a generated --help, and run(). Bad flags exit 2 with a message, library errors
 * (BitnetError) exit 1 with their message, never a stack trace.
 */
import { parseArgs } from 'node:util';
import { BitnetError } from '../errors.js';
import { UsageError, type Command } from './args.js';
import { convertCommand } from './commands/convert.js';
import { demoCommand } from './commands/demo.js';
import { chatCommand, generateCommand, packCommand } from './commands/generate.js';
import { evalCommand } from './commands/eval.js';
import { experimentCommand } from './commands/experiment.js';
import { infoCommand } from './commands/info.js';
import { inspectCommand } from './commands/inspect.js';
import { serveCommand } from './commands/serve.js';
import { interpCommand } from './commands/interp.js';
import { trainCommand } from './commands/train.js';
import { webCommand } from './commands/web.js';

const COMMANDS: Record<string, Command> = {
  demo: demoCommand,
  train: trainCommand,
  info: infoCommand,
  generate: generateCommand,
  chat: chatCommand,
  pack: packCommand,
  convert: convertCommand,
  inspect: inspectCommand,
  serve: serveCommand,
  interp: interpCommand,
  experiment: experimentCommand,
  eval: evalCommand,
  web: webCommand,
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return `usage: bitnet <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nbitnet <command> --help for its options`;
}

function commandHelp(name: string, c: Command): string {
  const opts = Object.entries(c.options).map(([k, o]) => `  --${k}${o.short ? `, -${o.short}` : ''}${o.type === 'string' ? ' VALUE' : ''}${'default' in o ? ` (default ${String(o.default)})` : ''}`);
  return `usage: bitnet ${name} [options]\n\n${c.summary}\n\noptions:\n${opts.join('\n')}`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const cmd = COMMANDS[name];
  if (cmd === undefined) {
    console.error(`bitnet: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...cmd.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e) {
    console.error(`bitnet ${name}: ${(e as Error).message}\n\n${commandHelp(name, cmd)}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(commandHelp(name, cmd));
    return 0;
  }
  try {
    await cmd.run(parsed.values, parsed.positionals);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`bitnet ${name}: ${e.message}`);
      return 2;
    }
    if (e instanceof BitnetError) {
      console.error(`bitnet ${name}: ${e.name}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
