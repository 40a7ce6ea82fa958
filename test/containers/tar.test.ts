import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { untar } from './tar.js';

// The container test reads the run folder out of a stopped container as a tar archive; the oracle
// here is the system's tar, in the ustar, pax and GNU formats.
describe('untar', () => {
  it.each(['ustar', 'pax', 'gnu'])('reads back what tar --format=%s wrote, long names and binary bytes included', (format) => {
    const dir = mkdtempSync(join(tmpdir(), 'untar-'));
    const deep = `run/${'d'.repeat(60)}/${'e'.repeat(60)}`;
    mkdirSync(join(dir, deep), { recursive: true });
    const binary = Buffer.from(Array.from({ length: 1300 }, (_, i) => (i * 37) % 256));
    writeFileSync(join(dir, 'run/summary.json'), '{"steps":3}\n');
    writeFileSync(join(dir, deep, 'params.safetensors'), binary);
    writeFileSync(join(dir, 'run/empty'), '');
    const archive = execFileSync('tar', [`--format=${format}`, '-C', dir, '-cf', '-', 'run']);
    const files = untar(archive);
    expect([...files.keys()].sort()).toEqual(['run/empty', `${deep}/params.safetensors`, 'run/summary.json'].sort());
    expect(files.get('run/summary.json')!.toString()).toBe('{"steps":3}\n');
    expect(files.get(`${deep}/params.safetensors`)!.equals(binary)).toBe(true);
    expect(files.get('run/empty')!.length).toBe(0);
  });
});
