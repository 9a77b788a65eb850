import { setImmediate } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ChunkChannel, CONSUMER_STOPPED } from './chunk-channel.js';

describe('ChunkChannel', () => {
  it('keeps a chunk until the consumer asks for the next one', async () => {
    const channel = new ChunkChannel();
    const events: string[] = [];
    // The producer offers its first chunk before the consumer requests any.
    const producing = (async () => {
      for (const name of ['a', 'b']) {
        await channel.put(Buffer.from(name));
        events.push(`${name} free`);
      }
      channel.end();
    })();

    for await (const chunk of channel) {
      events.push(`${chunk.toString()} received`);
      await setImmediate();
      events.push(`${chunk.toString()} used`);
    }
    await producing;

    expect(events).toEqual(['a received', 'a used', 'a free', 'b received', 'b used', 'b free']);
  });

  it('rejects the producer once the consumer stops', async () => {
    const channel = new ChunkChannel();
    const first = channel.put(Buffer.from('a'));

    for await (const _chunk of channel) {
      break;
    }

    await expect(first).rejects.toBe(CONSUMER_STOPPED);
    await expect(channel.put(Buffer.from('b'))).rejects.toBe(CONSUMER_STOPPED);
  });

  it('ends for a consumer that asks again after stopping', async () => {
    const channel = new ChunkChannel();
    const iterator = channel[Symbol.asyncIterator]();
    await iterator.return?.();

    await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
  });

  it('rejects a second request made before the first settled', async () => {
    const channel = new ChunkChannel();
    const iterator = channel[Symbol.asyncIterator]();
    const first = iterator.next();

    await expect(iterator.next()).rejects.toThrow('before the previous call settled');
    channel.end();
    await expect(first).resolves.toEqual({ done: true, value: undefined });
  });

  it('fails the consumer with the producer error', async () => {
    const channel = new ChunkChannel();
    channel.fail(new Error('disk gone'));

    const read = async () => {
      for await (const _chunk of channel) {
        // Only the failure matters here.
      }
    };

    await expect(read()).rejects.toThrow('disk gone');
  });
});
