#!/usr/bin/env node
/**
 * `bitnet <command> [options]` — a dispatch table. Each command has an options table,
 * a generated --help, and run(). The command line is checked before any work (flags, their
 * numbers and ranges, --threads, stray positionals, the command's own validate()). Bad flags exit 2
 * with a message; library errors (BitnetError) and system errors (ENOSPC, EADDRINUSE, EACCES,
 * ENOENT, ENOTFOUND, …) exit 1 with one line; anything else exits 70 with one line (the stack
 * trace only with BITNET_DEBUG=1). Never a raw stack trace.
 */
import { parseArgs } from 'node:util';
import { BitnetError } from '../errors.js';
import { checkCommandLine, systemErrorLine, UsageError, type Command } from './args.js';
import { COMMANDS } from './commands.js';
import { flagHelp } from './flags.js';

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return `usage: bitnet <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nbitnet <command> --help for its options`;
}

function commandHelp(name: string, c: Command): string {
  const opts = Object.entries(c.options).map(([k, o]) => {
    const head = `  --${k}${o.short ? `, -${o.short}` : ''}${o.type === 'string' ? ' VALUE' : ''}`;
    const d = 'default' in o && o.default !== '' && o.default !== false ? ` (default ${String(o.default)})` : '';
    return `${head.padEnd(26)} ${flagHelp(name, k)}${d}`;
  });
  return `usage: ${c.usage ?? `bitnet ${name}`} [options]\n\n${c.summary}\n\noptions:\n${opts.join('\n')}`;
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
    checkCommandLine(cmd, parsed.values, parsed.positionals);
    cmd.validate?.(parsed.values, parsed.positionals);
    await cmd.run(parsed.values, parsed.positionals);
    return 0;
  } catch (e) {
    return report(name, e);
  }
}

/** One line on stderr for an error that ended a command; the exit code. */
function report(name: string, e: unknown): number {
  if (e instanceof UsageError) {
    console.error(`bitnet ${name}: ${e.message}`);
    return 2;
  }
  if (e instanceof BitnetError) {
    console.error(`bitnet ${name}: ${e.name}: ${e.message}`);
    return 1;
  }
  const sys = systemErrorLine(e);
  if (sys !== undefined) {
    console.error(`bitnet ${name}: ${sys}`);
    return 1;
  }
  const debug = process.env.BITNET_DEBUG !== undefined && process.env.BITNET_DEBUG !== '' && process.env.BITNET_DEBUG !== '0';
  const msg = e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : String(e);
  console.error(debug && e instanceof Error ? `bitnet ${name}: internal error: ${e.stack}` : `bitnet ${name}: internal error: ${msg} (BITNET_DEBUG=1 shows the stack trace)`);
  return 70;
}

process.exitCode = await main(process.argv.slice(2));
