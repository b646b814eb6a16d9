/** How a direct client's options (and environment) become its regions: no network involved. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { UnknownRegionError } from '../../../sdk/src/errors.ts';
import { DirectTransport } from '../../../sdk/src/internal.ts';
import { parseTopicConfig } from '../../../sdk/src/topics/configs.ts';

const open: DirectTransport[] = [];
const saved = process.env.TRIBUTARY_REGIONS;

function transport(options: ConstructorParameters<typeof DirectTransport>[0]): DirectTransport {
  const t = new DirectTransport(options);
  open.push(t);
  return t;
}

afterEach(() => {
  for (const t of open.splice(0)) t.close();
  if (saved === undefined) delete process.env.TRIBUTARY_REGIONS;
  else process.env.TRIBUTARY_REGIONS = saved;
});

const topic = {
  name: 'orders',
  incarnation: 'abc',
  partitions: 1,
  configs: {},
  config: parseTopicConfig({}),
  createdAt: 0,
};

async function endpointOf(ddb: DynamoDBClient): Promise<string> {
  const endpoint = await ddb.config.endpoint?.();
  return endpoint ? `${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}` : 'aws';
}

describe('a direct client and its regions', () => {
  it('without regions is single-region: no region on its storage, no routing', () => {
    delete process.env.TRIBUTARY_REGIONS;
    const t = transport({ endpoint: 'http://127.0.0.1:4566', region: 'eu-west-1' });
    expect(t.regions).toBeUndefined();
    expect(t.ctx.region).toBeUndefined();
    expect(t.ctx.regions).toBeUndefined();
  });

  it('reaches each region at its own endpoint, and its own region there too', async () => {
    const t = transport({
      endpoint: 'http://127.0.0.1:4566',
      region: 'eu-west-1',
      regions: [
        { region: 'us-east-1', endpoint: 'http://127.0.0.1:1001' },
        { region: 'eu-west-1', endpoint: 'http://127.0.0.1:1002' },
      ],
    });
    expect(t.ctx.region).toBe('eu-west-1');
    expect(await endpointOf(t.ctx.ddb)).toBe('http://127.0.0.1:1002');
    const home = t.regions!.forAppends(topic);
    expect(home.region).toBe('us-east-1');
    expect(await endpointOf(home.ddb)).toBe('http://127.0.0.1:1001');
    expect(await home.ddb.config.region()).toBe('us-east-1');
    // S3 stays the client's own.
    expect(home.s3).toBe(t.ctx.s3);
  });

  it("uses a region's own DynamoDB client when given, and the client's endpoint for regions without one", async () => {
    const given = new DynamoDBClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:2001' });
    const t = transport({
      endpoint: 'http://127.0.0.1:4566',
      region: 'ap-south-1',
      regions: [{ region: 'us-east-1', dynamoDBClient: given }, { region: 'ap-south-1' }],
    });
    expect(t.regions!.context('us-east-1').ddb).toBe(given);
    expect(await endpointOf(t.ctx.ddb)).toBe('http://127.0.0.1:4566');
    expect(await t.ctx.ddb.config.region()).toBe('ap-south-1');
    t.close();
    // Not ours to destroy: still usable after close.
    expect(await given.config.region()).toBe('us-east-1');
    given.destroy();
  });

  it('reads TRIBUTARY_REGIONS (deployed functions) when no regions are given', () => {
    process.env.TRIBUTARY_REGIONS = 'us-east-1,eu-west-1';
    const t = transport({ endpoint: 'http://127.0.0.1:4566', region: 'eu-west-1' });
    expect(t.regions?.names).toEqual(['us-east-1', 'eu-west-1']);
    expect(t.regions?.forAppends(topic).region).toBe('us-east-1');
    process.env.TRIBUTARY_REGIONS = 'us-east-1,eu-west-1';
    expect(() => transport({ endpoint: 'http://127.0.0.1:4566', region: 'ap-south-1' })).toThrow(
      UnknownRegionError,
    );
  });
});
