import { describe, expect, it } from 'vitest';

import { parseConfig } from './config';

describe('config.json', () => {
  it('means same origin when empty or missing values', () => {
    expect(parseConfig({})).toEqual({ apiUrl: '', streamUrl: '' });
    expect(parseConfig(null)).toEqual({ apiUrl: '', streamUrl: '' });
    expect(parseConfig({ apiUrl: '', streamUrl: '' })).toEqual({ apiUrl: '', streamUrl: '' });
  });

  it('sends the stream to apiUrl unless streamUrl is given, without trailing slashes', () => {
    expect(parseConfig({ apiUrl: 'https://api.example/' })).toEqual({ apiUrl: 'https://api.example', streamUrl: 'https://api.example' });
    expect(parseConfig({ apiUrl: 'https://api.example', streamUrl: 'https://abc.lambda-url.us-east-1.on.aws/' })).toEqual({
      apiUrl: 'https://api.example',
      streamUrl: 'https://abc.lambda-url.us-east-1.on.aws',
    });
  });

  it('refuses values that are not http(s) URLs, naming the key', () => {
    expect(() => parseConfig({ apiUrl: 42 })).toThrow(/apiUrl/);
    expect(() => parseConfig({ streamUrl: 'javascript:alert(1)' })).toThrow(/streamUrl/);
    expect(() => parseConfig({ apiUrl: 'not a url' })).toThrow();
  });
});
