import { CodedError } from '@dptrain/errors';

export type ConfigErrorCode = 'E_CONFIG_FILE' | 'E_CONFIG_VALUE';

/** A configuration that cannot be used; the message names the key (and flag), the value and the fix. */
export class ConfigError extends CodedError<ConfigErrorCode> {}
