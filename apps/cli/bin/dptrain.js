#!/usr/bin/env node
// Runs the command from its JavaScript bundle (bundle.js: built on first use and after a source
// changes), or from the TypeScript sources through tsx when there is none, so `npm ci` needs no
// build step either way.
import { bundledEntry } from './bundle.js';

const entry = await bundledEntry();
if (entry) {
  await import(entry);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
}
