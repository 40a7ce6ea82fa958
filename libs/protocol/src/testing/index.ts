export { anyMessage, messageArbitraries } from './arbitraries.js';
