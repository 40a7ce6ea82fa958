export { CodedError, CodedRangeError, isCodedError, withCode } from './coded-error.js';
