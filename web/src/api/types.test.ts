import { describe, expect, it } from 'vitest';

import { MAX_REVISIONS_CHOICES } from './types';

describe('limits read from the OpenAPI', () => {
  it('offers every max_revisions RunBody accepts, its minimum to its maximum', () => {
    expect(MAX_REVISIONS_CHOICES).toEqual([1, 2, 3, 4, 5]);
  });
});
