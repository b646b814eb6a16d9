import { describe, expect, it } from 'vitest';
import {
  ABSENT,
  canonicalImage,
  type ItemImage,
  imageDigest,
  itemIdentity,
  repairStreamImage,
} from '../../../../local/regions/item-image.ts';
import { InvalidArgumentError } from '../../../../sdk/src/errors.ts';

describe('item digests', () => {
  it('are equal for the same item whatever the order of its attributes and set members', () => {
    const a = imageDigest({
      pk: { S: 'topic:1:0' },
      off: { N: '42' },
      tags: { SS: ['b', 'a'] },
      nums: { NS: ['2', '1'] },
      blobs: { BS: [Uint8Array.of(2), Uint8Array.of(1)] },
      m: { M: { y: { BOOL: true }, x: { NULL: true } } },
    });
    const b = imageDigest({
      m: { M: { x: { NULL: true }, y: { BOOL: true } } },
      blobs: { BS: [Uint8Array.of(1), Uint8Array.of(2)] },
      nums: { NS: ['1', '2'] },
      tags: { SS: ['a', 'b'] },
      off: { N: '42' },
      pk: { S: 'topic:1:0' },
    });
    expect(a).toBe(b);
  });

  it('differ when anything differs, lists keeping their order', () => {
    const base = { pk: { S: 'k' }, v: { L: [{ N: '1' }, { N: '2' }] } };
    const digests = [
      imageDigest(base),
      imageDigest({ ...base, v: { L: [{ N: '2' }, { N: '1' }] } }),
      imageDigest({ ...base, extra: { S: '' } }),
      imageDigest({ pk: { S: 'k' } }),
      imageDigest({ pk: { B: Uint8Array.of(107) } }),
      imageDigest({ pk: { S: 'k' }, v: { S: '1' } }),
      imageDigest({ pk: { S: 'k' }, v: { N: '1' } }),
      imageDigest({ pk: { S: 'k' }, v: { SS: ['1'] } }),
    ];
    expect(new Set(digests).size).toBe(digests.length);
  });

  it('tell no item apart from any item, the empty one included', () => {
    expect(imageDigest(undefined)).toBe(ABSENT);
    expect(imageDigest({})).not.toBe(ABSENT);
  });

  it('do not confuse strings that look like other values', () => {
    expect(canonicalImage({ a: { S: 'N1' } })).not.toBe(canonicalImage({ a: { N: '1' } }));
    expect(canonicalImage({ 'a"': { S: 'x' } })).not.toBe(canonicalImage({ a: { S: '"x' } }));
  });

  it('refuse a value of no known type', () => {
    expect(() => imageDigest({ a: { $unknown: ['X', 1] } })).toThrow(InvalidArgumentError);
  });
});

describe('item identities', () => {
  it('are the table and the key, in any attribute order', () => {
    const one = itemIdentity('t-log', { pk: { S: 'a:1:0' }, off: { N: '5' } });
    expect(itemIdentity('t-log', { off: { N: '5' }, pk: { S: 'a:1:0' } })).toBe(one);
    expect(itemIdentity('t-groups', { pk: { S: 'a:1:0' }, off: { N: '5' } })).not.toBe(one);
    expect(itemIdentity('t-log', { pk: { S: 'a:1:0' }, off: { N: '6' } })).not.toBe(one);
  });
});

describe('stream images', () => {
  it("get back the empty maps DynamoDB Local's streams write as {}, at any depth", () => {
    // As DynamoDB Local's GetRecords sends it.
    const streamed: ItemImage = JSON.parse(
      '{"pk":{"S":"k"},"cfg":{},"nested":{"M":{"e":{},"l":{"L":[{},{"S":"x"}]},"full":{"M":{"a":{"N":"1"}}}}},"emptyList":{"L":[]}}',
    );
    expect(repairStreamImage(streamed)).toEqual({
      pk: { S: 'k' },
      cfg: { M: {} },
      nested: { M: { e: { M: {} }, l: { L: [{ M: {} }, { S: 'x' }] }, full: { M: { a: { N: '1' } } } } },
      emptyList: { L: [] },
    });
    // The same item as DynamoDB returns it.
    expect(imageDigest(repairStreamImage(streamed))).toBe(
      imageDigest({
        pk: { S: 'k' },
        cfg: { M: {} },
        nested: { M: { e: { M: {} }, l: { L: [{ M: {} }, { S: 'x' }] }, full: { M: { a: { N: '1' } } } } },
        emptyList: { L: [] },
      }),
    );
  });

  it('are returned as they are when nothing needs repair', () => {
    const image = { pk: { S: 'k' }, m: { M: { a: { L: [{ N: '1' }] } } } };
    expect(repairStreamImage(image)).toBe(image);
  });
});
