import { type Command, wantsHelp } from './command.js';
import { configReference } from './config-reference.js';
import { errorReference } from './error-reference.js';
import { type ReadmeBlock, writeBlocks } from './readme-blocks.js';

const BLOCKS: Record<string, ReadmeBlock> = { config: configReference, errors: errorReference };

const HELP = `usage: agenttrail docs [config|errors]

Regenerates README.md's generated sections: the configuration reference (from the services'
zod config schemas) and the error table (from services/platform/errors.ts). Without an
argument, both.`;

export const docsCommand: Command = {
  summary: "regenerate README's configuration reference and error table from the code",
  async run(argv) {
    if (wantsHelp(argv)) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    const names = argv.length === 0 ? Object.keys(BLOCKS) : argv;
    const unknown = names.filter((n) => !BLOCKS[n]);
    if (unknown.length > 0) {
      process.stderr.write(`unknown section: ${unknown.join(', ')}\n${HELP}\n`);
      return 2;
    }
    writeBlocks(names.map((n) => BLOCKS[n]!));
    process.stderr.write(`README.md: ${names.join(', ')} regenerated\n`);
    return 0;
  },
};
