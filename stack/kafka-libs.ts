import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { kafkaLibsCacheDir, type Log, stackSourceDir } from './paths.js';
import { requireTool } from './prereqs.js';

const POM = join(stackSourceDir, 'pom.xml');
const STAMP = '.pom-sha256';

/** Kafka 4.x brokers need Java 17; say so plainly rather than letting the JVM fail. */
export function requireJava17(): void {
  requireTool(
    'java',
    ['-version'],
    'Install OpenJDK 17 or newer (Debian: apt-get install openjdk-17-jre-headless).',
  );
  const out = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${out.stderr}${out.stdout}`);
  const major = match ? Number(match[1] === '1' ? match[2] : match[1]) : 0;
  if (major < 17)
    throw new Error(`Kafka needs Java 17 or newer; 'java -version' reports ${match?.[0] ?? 'unknown'}`);
}

/**
 * Make sure a folder holds the broker's runtime classpath as declared by stack/pom.xml, and
 * return it: `libsDir` when given, else the cache's folder for this pom's hash (paths.ts says
 * why the jars are cached outside the state dir). Maven's own ~/.m2 cache makes even a
 * re-fetch fast after the first download.
 */
export async function ensureKafkaLibs(opts: { libsDir?: string; log: Log }): Promise<string> {
  const pomHash = createHash('sha256').update(readFileSync(POM)).digest('hex');
  const libsDir = opts.libsDir ?? join(kafkaLibsCacheDir(), pomHash.slice(0, 16));
  if (readStamp(libsDir) === pomHash) return libsDir;

  requireTool('mvn', ['-v'], 'Install Maven 3.8+ (Debian: apt-get install maven).');
  // Fetch into a private folder and rename: a concurrent fetch or an interrupted one never
  // leaves a half-filled classpath behind under the real name.
  const tmp = `${libsDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(dirname(libsDir), { recursive: true });
  const started = Date.now();
  opts.log(`fetching Kafka jars with Maven into ${libsDir} (once per stack/pom.xml version)...`);
  await runMaven([
    '-q',
    '-f',
    POM,
    'dependency:copy-dependencies',
    '-DincludeScope=runtime',
    `-DoutputDirectory=${tmp}`,
  ]);
  const jars = readdirSync(tmp).filter((f) => f.endsWith('.jar'));
  if (!jars.some((j) => /^kafka_2\.13-.*\.jar$/.test(j)))
    throw new Error(`Maven fetch produced no kafka_2.13 jar in ${tmp}`);
  writeFileSync(join(tmp, STAMP), pomHash);

  installFetched(tmp, libsDir, pomHash);
  opts.log(`fetched ${jars.length} jars in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return libsDir;
}

/**
 * Rename the fetched folder into place. Never delete a folder that holds this pom's jars: a
 * concurrent `stack up` may have just put it there and be starting a broker on it.
 */
function installFetched(tmp: string, libsDir: string, pomHash: string): void {
  for (let attempt = 0; ; attempt++) {
    try {
      renameSync(tmp, libsDir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      if (readStamp(libsDir) === pomHash) {
        rmSync(tmp, { recursive: true, force: true }); // someone else finished first
        return;
      }
      if (attempt > 0) throw err;
      // Another pom's jars (only possible in an explicitly given folder): replace them.
      rmSync(libsDir, { recursive: true, force: true });
    }
  }
}

function readStamp(libsDir: string): string | undefined {
  const stamp = join(libsDir, STAMP);
  return existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : undefined;
}

/** Colour/style escape sequences (ESC [ ... m). */
const ANSI_SGR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

function runMaven(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    // Maven's output is progress/errors for a human: stderr, never our stdout. Even with
    // -q -B, Debian's mvn prints bare colour-reset codes; strip them so quiet stays quiet.
    const child = spawn('mvn', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const forward = (chunk: Buffer) => {
      const text = chunk.toString().replace(ANSI_SGR, '');
      if (text.trim()) process.stderr.write(text);
    };
    child.stdout.on('data', forward);
    child.stderr.on('data', forward);
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`mvn ${args.join(' ')} failed with exit code ${code}`)),
    );
  });
}
