/** Matches a request's method and path against the route table. */
import { ROUTES, type RouteDefinition } from '../../sdk/src/api/routes.ts';

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

/** The route for `method` and `path`, or undefined. */
export function matchRoute(method: string, path: string): RouteMatch | undefined {
  for (const { route, pattern, names } of COMPILED) {
    if (route.method !== method) continue;
    const found = pattern.exec(path);
    if (!found) continue;
    const params: Record<string, string> = {};
    names.forEach((name, i) => {
      params[name] = decodeURIComponent(found[i + 1]!);
    });
    return { route, params };
  }
  return undefined;
}

/** The route of an API Gateway route key (`POST /v1/topics/{topic}/records`), if it is one of ours. */
export function routeByKey(routeKey: string): RouteDefinition | undefined {
  return ROUTES.find((r) => `${r.method} ${r.path}` === routeKey);
}
