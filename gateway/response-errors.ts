/**
 * The Kafka error codes a response carries. Every API puts them in fields named `errorCode` (and
 * CreateTopics' tagged `topicConfigErrorCode`), at the top level or nested in arrays of topics,
 * partitions, members, ... The walk is generic, driven by the field names alone, so an API added
 * later is counted without a change here.
 */

/**
 * The non-zero error codes in `response`, with how many fields carry each (a Produce to three
 * unknown partitions counts UNKNOWN_TOPIC_OR_PARTITION three times). Byte strings and record
 * batches are not looked into: they are opaque to the protocol.
 */
export function responseErrorCodes(response: unknown): Map<number, number> {
  const codes = new Map<number, number>();
  collect(response, codes);
  return codes;
}

function collect(value: unknown, codes: Map<number, number>): void {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return;
  if (Array.isArray(value)) {
    for (const element of value) collect(element, codes);
    return;
  }
  for (const [field, child] of Object.entries(value)) {
    if (isErrorCodeField(field)) {
      if (typeof child === 'number' && child !== 0) codes.set(child, (codes.get(child) ?? 0) + 1);
    } else {
      collect(child, codes);
    }
  }
}

function isErrorCodeField(field: string): boolean {
  return field === 'errorCode' || field.endsWith('ErrorCode');
}
