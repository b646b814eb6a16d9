// A plain JavaScript, callback-style handler. It calls back at once but leaves a timer that
// writes `event.file`: by default Lambda answers only once the event loop is empty, so the file
// exists by the time the caller has the result.
import { writeFileSync } from 'node:fs';

export function handler(event, context, callback) {
  setTimeout(() => writeFileSync(event.file, 'timer ran'), 50);
  callback(null, { via: 'callback', waits: context.callbackWaitsForEmptyEventLoop });
}

export function failing(_event, _context, callback) {
  callback(new TypeError('bad input'));
}
