/**
 * V8 flags every dptrain process sets for itself, before it allocates anything large.
 * `DPTRAIN_V8_FLAGS` replaces them (an empty value keeps V8's defaults); NODE_OPTIONS cannot
 * carry these flags, and `local`, Docker and users' own commands all start here.
 *
 * Why `--heap-growing-percent=300`: Node 20's V8 counts the external memory allocated since the
 * last mark-compact (the ArrayBuffers behind every socket read and every received message) as
 * old-generation bytes when it decides to start incremental marking. A process that moves a
 * parameter vector per message (about 1 MB for the MLP) churns tens of MB of such buffers between
 * two scavenges, all dead young. Once the old generation's limit, which V8 resizes after each
 * mark-compact, falls to about twice the live heap, that churn alone reaches it: every process
 * then marks the whole heap 10–12 times a second and stays that way. In `npm start` it started
 * anywhere from the first epoch to the third and took the two-worker cluster from 55–65 to 31–35
 * steps/s. A growth factor of 4 (the largest V8 itself picks for a throughput-bound process),
 * kept fixed, leaves the limit far enough above the live heap for the churn to die in scavenges.
 * `npm run bench:gc` measures it against V8's defaults.
 */
import { setFlagsFromString } from 'node:v8';

const DEFAULT_V8_FLAGS = '--heap-growing-percent=300';

const flags = process.env.DPTRAIN_V8_FLAGS ?? DEFAULT_V8_FLAGS;
if (flags.trim() !== '') setFlagsFromString(flags);
