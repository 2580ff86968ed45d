import { describe, expect, it } from 'vitest';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { onResponseClose } from '../../../src/http/response-close.js';

function response(): ServerResponse {
  return new ServerResponse(new IncomingMessage(new Socket()));
}

describe('onResponseClose', () => {
  it('runs every callback once, in order, behind a single close listener', () => {
    const res = response();
    const ran: number[] = [];
    for (let i = 0; i < 12; i++) onResponseClose(res, () => ran.push(i));
    expect(res.listenerCount('close')).toBe(1);
    res.emit('close');
    res.emit('close');
    expect(ran).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('keeps responses apart', () => {
    const a = response();
    const b = response();
    const ran: string[] = [];
    onResponseClose(a, () => ran.push('a'));
    onResponseClose(b, () => ran.push('b'));
    b.emit('close');
    expect(ran).toEqual(['b']);
  });
});
