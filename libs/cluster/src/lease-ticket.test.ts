import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LeaseTickets } from './lease-ticket.js';

const SECRET = 'lease-ticket-test-secret';

describe('LeaseTickets', () => {
  const tickets = new LeaseTickets(SECRET, 'job-1');

  it('is the first 128 bits of HMAC-SHA256(HMAC-SHA256(secret, label + job), "step/id/lease"), base64url', () => {
    const key = createHmac('sha256', SECRET).update('dptrain lease ticket v1\0job-1').digest();
    const expected = createHmac('sha256', key).update('7/3/42').digest().subarray(0, 16).toString('base64url');
    expect(tickets.mint(7, 3, 42)).toBe(expected);
    expect(expected).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(tickets.mintLease(7, [3, 4], 42)).toEqual([expected, tickets.mint(7, 4, 42)]);
  });

  it('verifies its own tickets and nothing else', () => {
    const ticket = tickets.mint(7, 3, 42);
    expect(tickets.verify(7, 3, 42, ticket)).toBe(true);
    // Another step, micro-batch or lease; another job or secret; no ticket; a malformed one.
    expect([tickets.verify(8, 3, 42, ticket), tickets.verify(7, 2, 42, ticket), tickets.verify(7, 3, 41, ticket)]).toEqual([false, false, false]);
    expect(new LeaseTickets(SECRET, 'job-2').verify(7, 3, 42, ticket)).toBe(false);
    expect(new LeaseTickets('another-secret-entirely', 'job-1').verify(7, 3, 42, ticket)).toBe(false);
    expect([
      tickets.verify(7, 3, undefined, ticket),
      tickets.verify(7, 3, 42, undefined),
      tickets.verify(7, 3, 42, 'short'),
      tickets.verify(7, 3, 42, `${ticket}AA`),
    ]).toEqual([false, false, false, false]);
  });
});
