import { describe, expect, it } from 'vitest';
import { OwnWrites } from '../../../../local/regions/own-writes.ts';

describe("the replicator's own writes", () => {
  it('are recognised once, in the order they were made, per region and item', () => {
    const own = new OwnWrites();
    own.expect('eu-west-1', 'item', 'v1');
    own.expect('eu-west-1', 'item', 'v2');
    expect(own.outstanding).toBe(2);
    // The same change in another region, or of another item, is a client's.
    expect(own.recognize('us-east-1', 'item', 'v1')).toBe(false);
    expect(own.recognize('eu-west-1', 'other', 'v1')).toBe(false);
    // Out of order: v2 cannot come before v1 in one item's stream, so it is a client's write.
    expect(own.recognize('eu-west-1', 'item', 'v2')).toBe(false);
    expect(own.recognize('eu-west-1', 'item', 'v1')).toBe(true);
    expect(own.recognize('eu-west-1', 'item', 'v1')).toBe(false);
    expect(own.recognize('eu-west-1', 'item', 'v2')).toBe(true);
    expect(own.outstanding).toBe(0);
  });

  it('let a client write that landed between them through, as a client write', () => {
    const own = new OwnWrites();
    own.expect('eu-west-1', 'item', 'ours');
    expect(own.recognize('eu-west-1', 'item', 'client')).toBe(false);
    expect(own.recognize('eu-west-1', 'item', 'ours')).toBe(true);
  });

  it('can be cancelled (a failed write, or one that changed nothing), saying whether one was still expected', () => {
    const own = new OwnWrites();
    const first = own.expect('eu-west-1', 'item', 'v1');
    const second = own.expect('eu-west-1', 'item', 'v2');
    expect(own.cancel('eu-west-1', 'item', first)).toBe(true);
    expect(own.cancel('eu-west-1', 'item', first)).toBe(false);
    expect(own.recognize('eu-west-1', 'item', 'v2')).toBe(true);
    // Taken by a record already: the cancel finds nothing.
    expect(own.cancel('eu-west-1', 'item', second)).toBe(false);
    expect(own.outstanding).toBe(0);
  });
});
