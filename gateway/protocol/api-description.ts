/**
 * An API (one Kafka request type and its response) as the gateway implements it: the key, the
 * contiguous range of versions it speaks, the flexible versions, and the request and response
 * descriptions. {@link defineApi} compiles both descriptions for every version in the range, so a
 * description that is wrong in any version fails when the module loads.
 */
import { compileMessage } from './codec.ts';
import { SchemaDefinitionError } from './errors.ts';
import type { Fields } from './schema.ts';
import { inRange, parseVersions, type VersionRange, type Versions } from './versions.ts';

export interface ApiDescription<
  N extends string = string,
  Req extends Fields = Fields,
  Res extends Fields = Fields,
> {
  /** Kafka's name of the API, e.g. `Metadata`. */
  readonly name: N;
  readonly apiKey: number;
  /** The lowest version implemented; ApiVersions advertises it. */
  readonly minVersion: number;
  /** The highest version implemented; ApiVersions advertises it. */
  readonly maxVersion: number;
  /** Versions with compact encodings, tagged fields and the flexible headers (KIP-482). */
  readonly flexibleVersions: Versions;
  readonly request: Req;
  readonly response: Res;
}

const flexibleRanges = new WeakMap<ApiDescription, VersionRange>();

/**
 * Declares an API and checks its descriptions in every version from `minVersion` to `maxVersion`.
 *
 * @throws SchemaDefinitionError when the range or a description is inconsistent.
 */
export function defineApi<const N extends string, const Req extends Fields, const Res extends Fields>(
  api: ApiDescription<N, Req, Res>,
): ApiDescription<N, Req, Res> {
  const { name, apiKey, minVersion, maxVersion } = api;
  if (!Number.isInteger(apiKey) || apiKey < 0 || apiKey > 0x7fff) {
    throw new SchemaDefinitionError(`${name}: api key ${apiKey} is not an int16`);
  }
  if (
    !Number.isInteger(minVersion) ||
    !Number.isInteger(maxVersion) ||
    minVersion < 0 ||
    maxVersion < minVersion
  ) {
    throw new SchemaDefinitionError(`${name}: versions ${minVersion}..${maxVersion} are not a range`);
  }
  const flexible = parseVersions(api.flexibleVersions);
  flexibleRanges.set(api, flexible);
  for (let version = minVersion; version <= maxVersion; version++) {
    const isFlexible = inRange(flexible, version);
    compileMessage(api.request, version, isFlexible, `${name} v${version} request`);
    compileMessage(api.response, version, isFlexible, `${name} v${version} response`);
  }
  return api;
}

/** True when `version` of `api` is a flexible version. */
export function isFlexibleVersion(api: ApiDescription, version: number): boolean {
  let range = flexibleRanges.get(api);
  if (range === undefined) {
    range = parseVersions(api.flexibleVersions);
    flexibleRanges.set(api, range);
  }
  return inRange(range, version);
}
