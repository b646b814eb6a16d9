/**
 * Answers at once but leaves an interval running in its worker (an async handler's result does
 * not wait for the event loop): only terminating the worker lets the process exit.
 */
export const handler = async () => {
  setInterval(() => {}, 60_000);
  return 'lingering';
};
