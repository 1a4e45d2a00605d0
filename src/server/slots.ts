/**
 * Generation slots and the bounded wait queue in front of them.
 *
 * A slot is one sequence of the server's InferenceBatch (its own KV cache, allocated once when the
 * server starts; the packed weights are shared by all). `acquire` hands out a free slot (the one
 * `choose` prefers, e.g. the one whose cache shares the longest prefix with the prompt), or waits
 * in a FIFO queue of at most `maxQueue` requests; beyond that it throws Overloaded at once, so
 * memory and latency stay bounded under load instead of growing with the number of clients.
 * A waiter whose AbortSignal fires leaves the queue.
 */
export class Overloaded extends Error {
  constructor(readonly queued: number) {
    super(`server overloaded: all slots busy and ${queued} requests already queued`);
    this.name = 'Overloaded';
  }
}

export class QueueClosed extends Error {
  constructor() {
    super('server is shutting down');
    this.name = 'QueueClosed';
  }
}

interface Waiter<T> {
  resolve: (slot: T) => void;
  reject: (e: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

export class SlotPool<T> {
  private readonly free: T[];
  private readonly waiting: Waiter<T>[] = [];
  private closed = false;

  constructor(
    readonly slots: readonly T[],
    readonly maxQueue: number,
  ) {
    if (slots.length === 0) throw new RangeError('SlotPool: at least one slot');
    if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new RangeError(`SlotPool: maxQueue must be a non-negative integer, got ${maxQueue}`);
    this.free = [...slots];
  }

  get busy(): number {
    return this.slots.length - this.free.length;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /**
   * A free slot now (of several, the one `choose` picks; default the most recently freed), or after
   * waiting in line (the next slot released); Overloaded when the line is full.
   */
  acquire(signal?: AbortSignal, choose?: (free: readonly T[]) => T): Promise<T> {
    if (this.closed) return Promise.reject(new QueueClosed());
    if (signal?.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (this.free.length > 0) {
      const pick = choose === undefined || this.free.length === 1 ? this.free[this.free.length - 1]! : choose(this.free);
      const i = this.free.indexOf(pick);
      if (i < 0) return Promise.reject(new RangeError('SlotPool: choose returned a slot that is not free'));
      this.free.splice(i, 1);
      return Promise.resolve(pick);
    }
    if (this.waiting.length >= this.maxQueue) return Promise.reject(new Overloaded(this.waiting.length));
    return new Promise<T>((resolve, reject) => {
      const w: Waiter<T> = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = this.waiting.indexOf(w);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
        },
      };
      signal?.addEventListener('abort', w.onAbort, { once: true });
      this.waiting.push(w);
    });
  }

  /** Give a slot back: the longest waiter gets it, else it becomes free. */
  release(slot: T): void {
    if (!this.slots.includes(slot) || this.free.includes(slot)) throw new RangeError('SlotPool: release of a slot that is not in use');
    const w = this.waiting.shift();
    if (w !== undefined) {
      w.signal?.removeEventListener('abort', w.onAbort);
      w.resolve(slot);
    } else this.free.push(slot);
  }

  /** Refuse new requests and reject everyone waiting (slots in use are released as usual). */
  close(): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) {
      w.signal?.removeEventListener('abort', w.onAbort);
      w.reject(new QueueClosed());
    }
  }
}
