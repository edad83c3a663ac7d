import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BarsDisplay } from './display.ts';

/** What a terminal would have been sent: a writable that says it is a TTY (readline's cursor moves are escape codes). */
function fakeTerminal(): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY: true, columns: 120, rows: 40 });
  return { stream, text: () => text };
}

describe('BarsDisplay', () => {
  it('prints a result logged just before it stops (the last file to finish) — #23 item 14', () => {
    const terminal = fakeTerminal();
    const display = new BarsDisplay(['a.mp4', 'b.mp4'], terminal.stream);
    const a = display.add('a.mp4', 100);
    const b = display.add('b.mp4', 100);
    a.done('ready');
    display.log('a.mp4: ready — first');
    b.done('ready');
    display.log('b.mp4: ready — last');
    display.stop();
    expect(terminal.text()).toContain('a.mp4: ready — first');
    expect(terminal.text()).toContain('b.mp4: ready — last');
  });
});
