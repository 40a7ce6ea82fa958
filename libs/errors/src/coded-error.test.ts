import { describe, expect, it } from 'vitest';
import { CodedError, CodedRangeError, isCodedError, withCode } from './coded-error.js';

class DiskError extends CodedError<'E_DISK'> {}
class SizeError extends CodedRangeError<'E_SIZE'> {}

describe('CodedError', () => {
  it("keeps the code, the message, the cause and the subclass's name", () => {
    const cause = new Error('EROFS');
    const error = new DiskError('E_DISK', 'cannot write /x; help: mount it read-write', { cause });
    expect([error.code, error.message, error.cause, error.name]).toEqual(['E_DISK', 'cannot write /x; help: mount it read-write', cause, 'DiskError']);
    expect(String(error)).toBe('DiskError: cannot write /x; help: mount it read-write');
  });

  it('a range error stays a RangeError; both are told apart from foreign errors', () => {
    const size = new SizeError('E_SIZE', 'too large');
    expect(size).toBeInstanceOf(RangeError);
    expect(size.name).toBe('SizeError');
    class FolderError extends withCode('E_FOLDER') {}
    const folder = new FolderError('runs/x is not empty');
    expect([folder.code, folder.name, folder.message, folder instanceof CodedError]).toEqual(['E_FOLDER', 'FolderError', 'runs/x is not empty', true]);
    expect([isCodedError(size), isCodedError(new DiskError('E_DISK', 'x')), isCodedError(new RangeError('x')), isCodedError({ code: 'E_X' })]).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });
});
