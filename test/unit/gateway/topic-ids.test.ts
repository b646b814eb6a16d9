/** Topic ids derived from the topic incarnation. */
import { describe, expect, it } from 'vitest';
import { topicIdOf, ZERO_UUID } from '../../../gateway/topic-ids.ts';

describe('topicIdOf', () => {
  it('is the same for an incarnation wherever it is computed, and differs for another incarnation or name', () => {
    const id = topicIdOf({ name: 'orders', incarnation: 'a1b2c3d4e5' });
    expect(topicIdOf({ name: 'orders', incarnation: 'a1b2c3d4e5' })).toBe(id);
    expect(topicIdOf({ name: 'orders', incarnation: 'ffffffffff' })).not.toBe(id);
    expect(topicIdOf({ name: 'orders2', incarnation: 'a1b2c3d4e5' })).not.toBe(id);
  });

  it('is an RFC 9562 version 8 UUID, never the zero id or the reserved metadata topic id', () => {
    for (let i = 0; i < 500; i++) {
      const id = topicIdOf({ name: `t${i}`, incarnation: String(i) });
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(id).not.toBe(ZERO_UUID);
      expect(id).not.toBe('00000000-0000-0000-0000-000000000001');
    }
  });
});
