/**
 * DynamoDB Local needs a Java 17+ runtime on PATH. This checks for one before anything starts, so
 * the user gets one actionable message instead of a Java stack trace.
 */
import { execFile } from 'node:child_process';
import { StackNotReadyError } from '../sdk/src/index.ts';

/** The oldest Java major version DynamoDB Local 3.x runs on. */
export const MIN_JAVA_MAJOR = 17;

const INSTALL_HINT =
  'Install Java 17 or newer and make sure `java` is on your PATH: ' +
  'e.g. `sudo apt-get install openjdk-17-jre-headless` (Debian/Ubuntu), `brew install openjdk@17` (macOS), ' +
  'or `sdk install java 17-tem` (SDKMAN).';

/**
 * The major version from `java -version` output (which Java prints to stderr), or undefined when
 * the output has no version. Handles the old `1.x` scheme (`"1.8.0_392"` is 8) and the current one
 * (`"17.0.15"`, `"21"`, `"22-ea"`).
 */
export function parseJavaMajorVersion(output: string): number | undefined {
  const match = /version "([^"]+)"/.exec(output);
  if (!match) return undefined;
  const parts = match[1]!.split(/[.\-_+]/);
  const first = Number.parseInt(parts[0] ?? '', 10);
  if (Number.isNaN(first)) return undefined;
  if (first !== 1) return first;
  const second = Number.parseInt(parts[1] ?? '', 10);
  return Number.isNaN(second) ? undefined : second;
}

/**
 * Verifies that `java` on PATH is Java {@link MIN_JAVA_MAJOR}+; returns its major version.
 * @throws StackNotReadyError when Java is missing, unrecognisable or too old.
 */
export async function checkJava(command = 'java'): Promise<number> {
  const output = await new Promise<string>((resolve, reject) => {
    execFile(command, ['-version'], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) {
        const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
        reject(
          new StackNotReadyError(
            missing
              ? `DynamoDB Local needs Java ${MIN_JAVA_MAJOR}+, but \`${command}\` was not found. ${INSTALL_HINT}`
              : `DynamoDB Local needs Java ${MIN_JAVA_MAJOR}+, but \`${command} -version\` failed: ${error.message}. ${INSTALL_HINT}`,
            error,
          ),
        );
        return;
      }
      resolve(`${stderr}\n${stdout}`);
    });
  });
  const major = parseJavaMajorVersion(output);
  if (major === undefined) {
    throw new StackNotReadyError(
      `DynamoDB Local needs Java ${MIN_JAVA_MAJOR}+, but the version of \`${command}\` could not be read from: ` +
        `${output.trim().split('\n')[0] ?? ''}. ${INSTALL_HINT}`,
    );
  }
  if (major < MIN_JAVA_MAJOR) {
    throw new StackNotReadyError(
      `DynamoDB Local needs Java ${MIN_JAVA_MAJOR}+, but \`${command}\` is Java ${major}. ${INSTALL_HINT}`,
    );
  }
  return major;
}
