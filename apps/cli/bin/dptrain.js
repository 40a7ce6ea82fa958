#!/usr/bin/env node
// The sources are TypeScript run through tsx's loader, so `npm ci` needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
