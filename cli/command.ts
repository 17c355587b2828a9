/** A subcommand: `run` gets the arguments after its name and returns the exit code. */
export interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

export const wantsHelp = (argv: readonly string[]): boolean => argv.includes('--help') || argv.includes('-h');
