import { type Command, wantsHelp } from './command.js';
import { writeConfigReference } from './config-reference.js';

const HELP = `usage: agenttrail docs config

Regenerates README.md's configuration reference from the services' zod config schemas.`;

export const docsCommand: Command = {
  summary: "regenerate README's configuration reference from the config schemas",
  async run(argv) {
    if (wantsHelp(argv) || argv[0] !== 'config') {
      process.stdout.write(`${HELP}\n`);
      return wantsHelp(argv) ? 0 : 2;
    }
    writeConfigReference();
    process.stderr.write('README.md: configuration reference regenerated\n');
    return 0;
  },
};
