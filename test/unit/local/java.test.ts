import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkJava, MIN_JAVA_MAJOR, parseJavaMajorVersion } from '../../../local/java.ts';
import { StackNotReadyError } from '../../../sdk/src/errors.ts';

describe('parseJavaMajorVersion', () => {
  it.each([
    [
      'openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment (build 17.0.15+6-Debian-1deb12u1)',
      17,
    ],
    ['openjdk version "21" 2023-09-19', 21],
    ['openjdk version "22-ea" 2024-03-19', 22],
    ['java version "1.8.0_392"\nJava(TM) SE Runtime Environment (build 1.8.0_392-b08)', 8],
    ['openjdk version "11.0.22" 2024-01-16 LTS', 11],
    ['Picked up JAVA_TOOL_OPTIONS: -Xmx1g\nopenjdk version "25.0.1" 2025-10-21', 25],
  ])('reads the major version from %j', (output, major) => {
    expect(parseJavaMajorVersion(output)).toBe(major);
  });

  it.each(['', 'bash: java: command not found', 'openjdk version "" 2020', 'java version "1.x"'])(
    'returns undefined for %j',
    (output) => {
      expect(parseJavaMajorVersion(output)).toBeUndefined();
    },
  );

  it('requires Java 17, the oldest DynamoDB Local 3.x runs on', () => {
    expect(MIN_JAVA_MAJOR).toBe(17);
  });
});

describe('checkJava', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-java-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** A stand-in `java` that prints a version banner to stderr, as Java does. */
  async function fakeJava(banner: string): Promise<string> {
    const path = join(dir, `java-${Math.random().toString(36).slice(2)}`);
    await writeFile(path, `#!/bin/sh\necho '${banner}' >&2\n`);
    await chmod(path, 0o755);
    return path;
  }

  it('accepts Java 17 and newer', async () => {
    await expect(checkJava(await fakeJava('openjdk version "21.0.2" 2024-01-16'))).resolves.toBe(21);
  });

  it('refuses an older Java, saying how to install a newer one', async () => {
    const error = await checkJava(await fakeJava('java version "1.8.0_392"')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StackNotReadyError);
    expect(error).toMatchObject({ code: 'STACK_NOT_READY' });
    expect((error as Error).message).toMatch(/is Java 8\..*openjdk-17-jre-headless/);
  });

  it('reports a missing java with the same advice', async () => {
    const error = await checkJava(join(dir, 'no-such-java')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StackNotReadyError);
    expect((error as Error).message).toMatch(/was not found\..*Install Java 17 or newer/);
  });
});
