/**
 * The local stack's optional gateway (`startLocalStack({ gatewayPort })`, `npm start --
 * --gateway-port`): it serves the stack's own tables, so what kcat writes through it the SDK
 * reads from the stack, and it stops with the stack. A bad port is refused before anything starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../../local/index.ts';
import { InvalidArgumentError, Tributary } from '../../../sdk/src/index.ts';
import { readAll } from '../../helpers/consume.ts';
import { kcat, requireKcat } from '../../helpers/gateway.ts';
import { uniqueTopic } from '../../helpers/tributary.ts';

let stack: LocalStack;
let client: Tributary;

beforeAll(async () => {
  await requireKcat();
  stack = await startLocalStack({ edgePort: 0, gatewayPort: 0, tablePrefix: 'gw-local-', dispatcher: false });
  client = new Tributary({
    endpoint: stack.endpoint,
    region: stack.region,
    tablePrefix: stack.tablePrefix,
    bucket: stack.bucket,
  });
});
afterAll(async () => {
  client?.close();
  await stack?.stop();
});

describe('the local stack with a gateway', () => {
  it("serves the stack's tables to kcat, and the SDK reads what kcat produced", async () => {
    const bootstrap = stack.gatewayBootstrap;
    expect(bootstrap).toMatch(/^127\.0\.0\.1:\d+$/);
    const port = Number(bootstrap?.split(':')[1]);
    const topic = uniqueTopic('local-gw');
    await client.admin().createTopic({ topic, partitions: 1 });
    const listed = await kcat(port, ['-L', '-t', topic]);
    expect(listed.stdout).toContain(`topic "${topic}" with 1 partitions`);
    const produced = await kcat(port, ['-P', '-t', topic, '-p', '0', '-K', ':'], 'k:local\n');
    expect(produced.code, produced.stderr).toBe(0);
    const consumer = client.consumer();
    await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
    const [message] = await readAll(consumer, 1);
    consumer.close();
    expect([message?.key?.toString(), message?.value?.toString()]).toEqual(['k', 'local']);
  });

  it('refuses a gateway port out of range before starting anything', async () => {
    await expect(startLocalStack({ edgePort: 0, gatewayPort: 70_000 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });
});
