import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.js';
import { perceiveProcessCount } from './perceive-processes.js';

const config = (perceive: Record<string, unknown>, models: Record<string, unknown> = {}) => loadConfig({ env: {}, overrides: { perceive, models } }).config;

describe('perceiveProcessCount', () => {
  it('auto: one per core at one intra-op thread, fewer when each call uses more, one when onnxruntime uses every core', () => {
    expect(perceiveProcessCount(config({}), 8)).toBe(8);
    expect(perceiveProcessCount(config({}, { intraOpThreads: 2 }), 8)).toBe(4);
    expect(perceiveProcessCount(config({}, { intraOpThreads: 3 }), 2)).toBe(1);
    expect(perceiveProcessCount(config({}, { intraOpThreads: 0 }), 8)).toBe(1);
  });

  it('takes a number as it is; 0 keeps perception in the serve process', () => {
    expect(perceiveProcessCount(config({ processes: 3 }), 8)).toBe(3);
    expect(perceiveProcessCount(config({ processes: 0 }), 8)).toBe(0);
  });

  it('refuses anything else, naming the option', () => {
    expect(() => config({ processes: -1 })).toThrow(/perceive\.processes/);
    expect(() => config({ processes: 'many' })).toThrow(/perceive\.processes/);
  });
});
