/** Every `bitnet` command by name (main.ts dispatches; tests walk it). */
import type { Command } from './args.js';
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

export const COMMANDS: Record<string, Command> = {
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

