/** FindCoordinator (key 10). v4+ batches the keys (`coordinatorKeys` / `coordinators`). */
import { defineApi } from '../api-description.ts';
import { array, int8, int16, int32, string } from '../schema.ts';

export const FIND_COORDINATOR = defineApi({
  name: 'FindCoordinator',
  apiKey: 10,
  minVersion: 0,
  maxVersion: 6,
  flexibleVersions: '3+',
  request: {
    key: string({ versions: '0-3' }),
    /** 0 group, 1 transaction, 2 share group. */
    keyType: int8({ versions: '1+', default: 0 }),
    coordinatorKeys: array('string', { versions: '4+' }),
  },
  response: {
    throttleTimeMs: int32({ versions: '1+' }),
    errorCode: int16({ versions: '0-3' }),
    errorMessage: string({ versions: '1-3', nullableVersions: '1-3' }),
    nodeId: int32({ versions: '0-3' }),
    host: string({ versions: '0-3' }),
    port: int32({ versions: '0-3' }),
    coordinators: array(
      {
        key: string(),
        nodeId: int32(),
        host: string(),
        port: int32(),
        errorCode: int16(),
        errorMessage: string({ nullableVersions: '4+' }),
      },
      { versions: '4+' },
    ),
  },
});
