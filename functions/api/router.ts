/**
 * Matches a request's method and path against the route table. Path segments are
 * percent-decoded strictly: malformed escapes (`%zz`, a lone `%`) and bytes that are not UTF-8
 * (`%FF`, overlong forms such as `%C0%AF`) are an `InvalidArgumentError` (400), never a
 * `URIError` that would surface as a 500.
 */
import { InvalidArgumentError } from '../../sdk/src/index.ts';
import { ROUTES, type RouteDefinition } from '../../sdk/src/internal.ts';

/** A matched route with its decoded path parameters. */
export interface RouteMatch {
  readonly route: RouteDefinition;
  readonly params: Readonly<Record<string, string>>;
}

interface CompiledRoute {
  readonly route: RouteDefinition;
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

const COMPILED: readonly CompiledRoute[] = ROUTES.map((route) => {
  const names: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment);
      if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(param[1]!);
      return '([^/]+)';
    })
    .join('/');
  return { route, pattern: new RegExp(`^${source}$`), names };
});

function find(method: string, path: string): { compiled: CompiledRoute; found: RegExpExecArray } | undefined {
  for (const compiled of COMPILED) {
    if (compiled.route.method !== method) continue;
    const found = compiled.pattern.exec(path);
    if (found) return { compiled, found };
  }
  return undefined;
}

/**
 * One path segment, percent-decoded; `InvalidArgumentError` naming `what` when the segment is
 * not valid percent-encoded UTF-8 (`decodeURIComponent` already refuses every such form).
 */
export function decodeSegment(segment: string, what = 'a path segment'): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new InvalidArgumentError(
      `${what} (${JSON.stringify(segment)}) is not valid percent-encoded UTF-8; encode each byte of its UTF-8 form as %XX`,
    );
  }
}

/** Throws `InvalidArgumentError` unless every segment of `path` is valid percent-encoded UTF-8. */
export function checkPathEncoding(path: string): void {
  // Most paths have no escapes at all; only those with one are decoded.
  if (!path.includes('%')) return;
  for (const segment of path.split('/')) decodeSegment(segment);
}

/** The route for `method` and `path` without decoding its parameters, or undefined. */
export function findRoute(method: string, path: string): RouteDefinition | undefined {
  return find(method, path)?.compiled.route;
}

/**
 * The route for `method` and `path` with its decoded parameters, or undefined. Throws
 * `InvalidArgumentError` when a parameter is not valid percent-encoded UTF-8.
 */
export function matchRoute(method: string, path: string): RouteMatch | undefined {
  const match = find(method, path);
  if (!match) return undefined;
  const { compiled, found } = match;
  const params = Object.fromEntries(
    compiled.names.map((name, i) => [name, decodeSegment(found[i + 1]!, `The path parameter ${name}`)]),
  );
  return { route: compiled.route, params };
}

/** The route of an API Gateway route key (`POST /v1/topics/{topic}/records`), if it is one of ours. */
export function routeByKey(routeKey: string): RouteDefinition | undefined {
  return ROUTES.find((r) => `${r.method} ${r.path}` === routeKey);
}
