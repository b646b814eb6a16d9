/** Handlers that fail in the ways Lambda reports as `X-Amz-Function-Error: Unhandled`. */
export const handler = async (): Promise<never> => {
  throw new RangeError('card declined');
};

/** Returns more than Lambda's 6 MB response limit. */
export const oversized = async (): Promise<string> => 'x'.repeat(7 * 1024 * 1024);

/** Not a function: registering it works, invoking it reports Runtime.HandlerNotFound. */
export const notAFunction = 42;
