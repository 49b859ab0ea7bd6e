// Conversion failures a person can act on: each names the model and the file, node or op at fault.
import { EngramError } from '../../config/errors.js';

export class ConvertError extends EngramError {
  override readonly name = 'ConvertError';
}
