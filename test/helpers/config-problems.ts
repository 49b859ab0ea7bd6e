// What a configuration is refused for: the problems a ConfigError lists, so a test can assert
// that each names its key. Anything else thrown, or nothing thrown, fails the test.
import { ConfigError } from '../../config/errors.js';

export function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}
