/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the route table and the contract
 * (so it cannot drift from what the handlers validate). `docs/openapi.json` is this document;
 * the API serves it at `GET /v1/openapi.json`.
 */
import { z } from 'zod';
import { CONTRACT, type OperationContract } from './contract.ts';
import { ROUTES } from './routes.ts';
import { ErrorBody } from './schemas.ts';

type JsonObject = Record<string, unknown>;

const ERROR_RESPONSES: Record<string, string> = {
  '400':
    'Invalid request: bad percent-encoding, unknown query parameters or body fields, a body that is not one UTF-8 JSON object ' +
    'without duplicate keys, wrong JSON types, integers in queries and paths not written as decimal digits, ' +
    'non-canonical base64, illegal names or values; nothing was written.',
  '403':
    "Not authorized: API Gateway's IAM authorizer refused the signature or the caller (every route requires an IAM SigV4 signature).",
  '404': 'Unknown topic, partition, group, trigger or Lambda function.',
  '409':
    'Conflict (topic or trigger exists, concurrent append, out-of-order producer sequence, produce still in progress (retry it), lease lost, group active).',
  '413':
    'Request body too large (over 6 MB; over 10 MB API Gateway refuses it itself) or a record over max.message.bytes.',
  '416': 'Offset out of range (details carry logStartOffset and highWatermark).',
  '429': 'Throttled (by API Gateway, or THROTTLED by storage); retry with backoff.',
  '503': 'Storage unavailable; retry with backoff.',
};

/** Only routes that take a body answer it. */
const UNSUPPORTED_MEDIA_TYPE =
  'The body is not sent as "content-type: application/json" (parameters allowed; a charset must be UTF-8).';

const ERROR = { $ref: '#/components/schemas/Error' };
const GATEWAY_ERROR = { $ref: '#/components/schemas/GatewayError' };
/** Statuses API Gateway answers itself, before the function: only it (403), or it or the function. */
const GATEWAY_SCHEMAS: Record<string, JsonObject> = {
  '403': GATEWAY_ERROR,
  '413': { anyOf: [ERROR, GATEWAY_ERROR] },
  '429': { anyOf: [ERROR, GATEWAY_ERROR] },
};

function schema(type: z.ZodType, io: 'input' | 'output'): JsonObject {
  const json = z.toJSONSchema(type, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonObject;
  delete json.$schema;
  return json;
}

function parameters(contract: OperationContract): JsonObject[] {
  const out: JsonObject[] = [];
  for (const [where, type] of [
    ['path', contract.params],
    ['query', contract.query],
  ] as const) {
    if (!type) continue;
    const json = schema(type, 'input') as { properties?: Record<string, JsonObject>; required?: string[] };
    for (const [name, property] of Object.entries(json.properties ?? {})) {
      out.push({
        name,
        in: where,
        required: where === 'path' || (json.required ?? []).includes(name),
        schema: property,
        ...(typeof property.description === 'string' ? { description: property.description } : {}),
      });
    }
  }
  return out;
}

/** Builds the OpenAPI document. */
export function openApiDocument(): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of ROUTES) {
    const contract: OperationContract = CONTRACT[route.operationId];
    const success: JsonObject = contract.response
      ? {
          description: 'Success',
          content: { 'application/json': { schema: schema(contract.response, 'output') } },
        }
      : { description: 'Success (no content)' };
    const operation: JsonObject = {
      operationId: route.operationId,
      summary: route.summary,
      security: [{ sigv4: [] }],
      'x-tributary-access': route.access,
      parameters: parameters(contract),
      ...(contract.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: schema(contract.body, 'input') } },
            },
          }
        : {}),
      responses: {
        [String(contract.status)]: success,
        ...Object.fromEntries(
          Object.entries(ERROR_RESPONSES).map(([status, description]) => [
            status,
            {
              description,
              content: { 'application/json': { schema: GATEWAY_SCHEMAS[status] ?? ERROR } },
            },
          ]),
        ),
        ...(contract.body
          ? {
              '415': {
                description: UNSUPPORTED_MEDIA_TYPE,
                content: { 'application/json': { schema: ERROR } },
              },
            }
          : {}),
      },
    };
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operation };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tributary',
      version: 'v1',
      description:
        'Kafka-style event streaming on DynamoDB and S3. Every route is authorized with AWS IAM (SigV4, service execute-api).',
    },
    paths,
    components: {
      schemas: {
        Error: schema(ErrorBody, 'output'),
        GatewayError: {
          type: 'object',
          description:
            'API Gateway\'s own refusal, e.g. {"message":"Forbidden"}, {"message":"Too Many Requests"}. The local stack\'s server sends the Error envelope beside it.',
          properties: { message: { type: 'string' } },
          required: ['message'],
        },
      },
      securitySchemes: {
        sigv4: {
          type: 'apiKey',
          name: 'Authorization',
          in: 'header',
          'x-amazon-apigateway-authtype': 'awsSigv4',
          description: 'AWS Signature Version 4 (service execute-api).',
        },
      },
    },
  };
}
