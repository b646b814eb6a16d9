/**
 * Raw calls to the local HTTP API (the Lambda handler behind the test stack's API server), for
 * tests of the wire format and status codes. The local server checks that a SigV4 header is
 * present but not the signature (as LocalStack does), so a syntactically signed header suffices.
 */
import { testStackConfig } from './stack.ts';

const SIGNED =
  'AWS4-HMAC-SHA256 Credential=test/20261124/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=0';

/** A response: status and parsed JSON body (undefined when empty). */
export interface ApiResponse {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary response fields
  readonly body: any;
}

/** Calls the API; `body` is JSON-encoded unless it is already a string. */
export async function api(
  method: string,
  path: string,
  body?: unknown,
  options: { readonly signed?: boolean } = {},
): Promise<ApiResponse> {
  const response = await fetch(`${testStackConfig().apiUrl}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(options.signed === false ? {} : { authorization: SIGNED }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}
