import { describe, expect, it } from '@jest/globals';
import { readActionsDoc, readReadme, render, renderActionsDoc } from '../tools/readme.js';

describe('README', () => {
  it('is up to date with the column definitions, IAM event list and settings (run `npm run docs`)', () => {
    const readme = readReadme();
    expect(render(readme)).toBe(readme);
  });

  it('has the per-action reference generated from the catalogue (run `npm run docs`)', () => {
    expect(readActionsDoc()).toBe(renderActionsDoc());
  });

  it('gives exactly the two quick-start commands', () => {
    const readme = readReadme();
    expect(readme).toContain('npm ci && npm run demo');
    expect(readme).toContain('npm test');
  });
});
