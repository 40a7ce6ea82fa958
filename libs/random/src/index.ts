export { Mulberry32 } from './mulberry32.js';
export { deriveSeed, fmix32 } from './derive-seed.js';
