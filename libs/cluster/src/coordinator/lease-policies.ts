import type { JobConfig } from '@dptrain/config';
import { AsyncPolicy } from './async-policy.js';
import type { LeasePolicyKind } from './lease-policy.js';
import { SyncPolicy } from './sync-policy.js';

/** Each mode's policy; the coordinator takes one when it is built and never asks the mode again. */
export const LEASE_POLICIES: { readonly [mode in JobConfig['mode']]: LeasePolicyKind } = { sync: SyncPolicy, async: AsyncPolicy };
