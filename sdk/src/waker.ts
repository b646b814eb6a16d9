/** An interruptible sleep: a loop idles with `sleep(ms)`, and `wake()` ends the current sleep early. */
export class Waker {
  #wake: (() => void) | undefined;

  /** Sleeps `ms`, or until {@link wake} is called. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.#wake === done) self.#wake = undefined;
        resolve();
      }
      this.#wake = done;
    });
  }

  /** Ends the sleep in progress, if any. */
  wake(): void {
    this.#wake?.();
  }
}
