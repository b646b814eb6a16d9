/**
 * The `FunctionName` an Invoke request names, in the forms Lambda accepts: `name`,
 * `name:qualifier`, a partial ARN `account:function:name[:qualifier]` and a full ARN
 * `arn:aws:lambda:region:account:function:name[:qualifier]`. Pure: the service resolves the result
 * against the registered functions.
 */

/** The account id every local function lives in (LocalStack's default account). */
export const LOCAL_ACCOUNT_ID = '000000000000';

/** The only version a local function has: Lambda's unpublished one. */
export const LATEST = '$LATEST';

/** A function name as Lambda allows it (1 to 64 letters, digits, hyphens and underscores). */
const NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** A version (`$LATEST` or a number) or an alias name. */
const QUALIFIER = /^(\$LATEST|[A-Za-z0-9_-]{1,128})$/;
const FULL_ARN =
  /^arn:(aws[a-zA-Z-]*):lambda:([a-z]{2}(?:-gov)?-[a-z]+-\d):(\d{12}):function:([^:]+)(?::([^:]+))?$/;
const PARTIAL_ARN = /^(\d{12}):function:([^:]+)(?::([^:]+))?$/;
const NAME_WITH_QUALIFIER = /^([^:]+)(?::([^:]+))?$/;

/** What a `FunctionName` (and the `Qualifier` query parameter) designate. */
export interface FunctionTarget {
  readonly name: string;
  /** Present when the name or the query carried one. */
  readonly qualifier: string | undefined;
  /** The region the ARN named, when it was a full ARN. */
  readonly region: string | undefined;
  /** The account the ARN named, when it was an ARN. */
  readonly account: string | undefined;
}

/** Why a `FunctionName` cannot designate any function. */
export type FunctionNameProblem =
  /** Not in any of Lambda's forms (Lambda answers 400 `ValidationException`). */
  | { readonly kind: 'malformed'; readonly message: string }
  /** The name's qualifier and the `Qualifier` parameter differ (400 `InvalidParameterValueException`). */
  | { readonly kind: 'qualifier-mismatch'; readonly message: string };

/** True for a name Lambda accepts as a function's own name. */
export function isValidFunctionName(name: string): boolean {
  return NAME.test(name);
}

/** The ARN of `name` (with `:qualifier` when given) in `region` and the local account. */
export function functionArn(region: string, name: string, qualifier?: string): string {
  const arn = `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${name}`;
  return qualifier === undefined ? arn : `${arn}:${qualifier}`;
}

/**
 * Splits a request's `FunctionName` (already URL-decoded) and optional `Qualifier` query parameter
 * into name, qualifier and, for ARNs, region and account.
 */
export function parseFunctionName(
  raw: string,
  qualifierParam: string | undefined,
): FunctionTarget | FunctionNameProblem {
  const full = FULL_ARN.exec(raw);
  const partial = full ? null : PARTIAL_ARN.exec(raw);
  const plain = full || partial ? null : NAME_WITH_QUALIFIER.exec(raw);
  const [name, qualifier, region, account] = full
    ? [full[4], full[5], full[2], full[3]]
    : partial
      ? [partial[2], partial[3], undefined, partial[1]]
      : plain
        ? [plain[1], plain[2], undefined, undefined]
        : [undefined, undefined, undefined, undefined];
  if (name === undefined || !NAME.test(name) || (qualifier !== undefined && !QUALIFIER.test(qualifier))) {
    return {
      kind: 'malformed',
      message:
        `1 validation error detected: Value '${raw}' at 'functionName' failed to satisfy constraint: ` +
        'Member must be a function name, name:qualifier, or a function ARN (arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>])',
    };
  }
  if (qualifierParam !== undefined && !QUALIFIER.test(qualifierParam)) {
    return {
      kind: 'malformed',
      message:
        `1 validation error detected: Value '${qualifierParam}' at 'qualifier' failed to satisfy constraint: ` +
        'Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)',
    };
  }
  if (qualifier !== undefined && qualifierParam !== undefined && qualifier !== qualifierParam) {
    return {
      kind: 'qualifier-mismatch',
      message: 'The derived qualifier from the function name does not match the specified qualifier.',
    };
  }
  return { name, qualifier: qualifier ?? qualifierParam, region, account };
}
